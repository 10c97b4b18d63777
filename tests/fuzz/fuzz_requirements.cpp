// Fuzzes the pip requirements parser: any input must give requirements or errors located at
// `requirements.txt:LINE` (or in a file it includes), never a crash, a hang, or another exception.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "builder/config/requirements.hpp"
#include "tests/fuzz/fuzz_project.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const auto& dir = cog::fuzz::fuzz_project_dir();
  try {
    auto requirements = cog::builder::config::parse_requirements_text(text, dir / "fuzzed.txt", dir);
    for (const auto& requirement : requirements) {
      if (requirement.text.empty() || requirement.where.line < 1) std::abort();
    }
  } catch (const cog::Errors& errors) {
    if (errors.all().empty()) std::abort();
    for (const auto& error : errors.all()) cog::fuzz::require_located(error, "");
  } catch (const cog::Error& error) {
    cog::fuzz::require_located(error, "");
  }
  return 0;
}
