#pragma once
// A throw-away project directory for loader tests: write files into it, load cog.yaml text as if
// it lived there, and read back the errors as the CLI would print them.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "builder/config/load.hpp"
#include "support/error.hpp"

namespace cog::test {

class TempProject {
 public:
  TempProject() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() / ("cog-config-test-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    write("run.py", "class Runner:\n    def run(self) -> str:\n        return 'hi'\n");
  }
  ~TempProject() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TempProject(const TempProject&) = delete;
  TempProject& operator=(const TempProject&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  void write(const std::string& relative, const std::string& content) const {
    auto path = dir_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }

  builder::config::LoadedConfig load(const std::string& yaml) const {
    return builder::config::load_config_text(yaml, dir_ / "cog.yaml");
  }

  // Every error load() reports, as `where: what — fix`; empty when it loads.
  std::vector<std::string> errors(const std::string& yaml) const {
    try {
      load(yaml);
    } catch (const Errors& errors) {
      std::vector<std::string> lines;
      for (const auto& error : errors.all()) lines.push_back(error.describe());
      return lines;
    } catch (const Error& error) {
      return {error.describe()};
    }
    return {};
  }

  // The one error a case must produce.
  std::string error(const std::string& yaml) const {
    auto all = errors(yaml);
    std::string joined;
    for (const auto& line : all) joined += line + "\n";
    INFO("errors:\n" << joined);
    REQUIRE(all.size() == 1);
    return all[0];
  }

  // Warnings of a config that must load.
  std::vector<std::string> warnings(const std::string& yaml) const {
    std::vector<std::string> lines;
    for (const auto& warning : load(yaml).warnings) lines.push_back(warning.describe());
    return lines;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace cog::test
