// Golden files for what a user sees: each tests/golden/config/<case>.yaml is loaded in a project
// with run.py, and its errors (or, when it loads, its warnings) must equal <case>.txt line for
// line. Set COG_UPDATE_GOLDEN=1 to rewrite the .txt files after a reviewed change.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/unit/config/temp_project.hpp"

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

std::string report_for(const cog::test::TempProject& project, const std::string& yaml) {
  std::string report;
  auto errors = project.errors(yaml);
  for (const auto& line : errors) report += "error: " + line + "\n";
  if (errors.empty()) {
    for (const auto& line : project.warnings(yaml)) report += "warning: " + line + "\n";
  }
  return report;
}

}  // namespace

TEST_CASE("golden cog.yaml error and warning reports") {
  std::filesystem::path dir = std::filesystem::path(COG_GOLDEN_DIR) / "config";
  bool update = std::getenv("COG_UPDATE_GOLDEN") != nullptr;
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++cases;
    CAPTURE(entry.path().filename().string());
    cog::test::TempProject project;
    std::string actual = report_for(project, read_file(entry.path()));
    auto expected_path = std::filesystem::path(entry.path()).replace_extension(".txt");
    if (update) std::ofstream(expected_path, std::ios::binary) << actual;
    CHECK(actual == read_file(expected_path));
  }
  CHECK(cases >= 3);
}
