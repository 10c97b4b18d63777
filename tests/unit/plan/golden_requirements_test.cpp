// The generated requirements.txt of the `cog debug` golden projects that carry an
// `expected_requirements` file (the Dockerfile itself is checked by tests/e2e/test_debug.py).
// COG_UPDATE_GOLDEN=1 rewrites the expected files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "builder/config/load.hpp"
#include "builder/plan/plan.hpp"

namespace fs = std::filesystem;
namespace cfg = cog::builder::config;
namespace plan = cog::builder::plan;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("golden requirements of the debug projects") {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(COG_GOLDEN_DIR) / "debug")) {
    auto expected_path = entry.path() / "expected_requirements";
    if (!fs::exists(expected_path)) continue;
    CAPTURE(entry.path().filename().string());
    plan::PlanOptions options;
    options.base.use_cog_base_image =
        read_file(entry.path() / "args").find("--use-cog-base-image=false") != std::string::npos
            ? std::optional<bool>(false)
            : std::nullopt;
    auto loaded = cfg::load_config(entry.path() / "cog.yaml");
    auto built = plan::make_plan(loaded.config, cfg::CompatMatrix::builtin(), options);
    const char* update = std::getenv("COG_UPDATE_GOLDEN");
    if (update && std::string(update) == "1") std::ofstream(expected_path) << built.requirements;
    CHECK(built.requirements == read_file(expected_path));
    ++checked;
  }
  CHECK(checked >= 3);
}
