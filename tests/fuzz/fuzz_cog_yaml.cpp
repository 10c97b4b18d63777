// Fuzzes the cog.yaml loader: any input must give a valid Config or located cog::Error(s), never a
// crash, a hang, or another exception.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "builder/config/load.hpp"
#include "tests/fuzz/fuzz_project.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const auto& dir = cog::fuzz::fuzz_project_dir();
  try {
    auto loaded = cog::builder::config::load_config_text(text, dir / "cog.yaml");
    // A config that loads has the one field Cog requires.
    if (loaded.config.build.python_version.empty()) {
      std::fprintf(stderr, "loaded without python_version\n");
      std::abort();
    }
  } catch (const cog::Errors& errors) {
    if (errors.all().empty()) std::abort();
    // Errors are in cog.yaml, or in the requirements file it names (located by that file's name).
    for (const auto& error : errors.all()) cog::fuzz::require_located(error, "");
  } catch (const cog::Error& error) {
    cog::fuzz::require_located(error, "cog.yaml:");
  }
  return 0;
}
