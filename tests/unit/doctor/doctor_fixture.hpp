#pragma once
// A project directory for the doctor's unit tests, and a host whose answers the test chooses.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "builder/doctor/doctor.hpp"
#include "temp_dir.hpp"

namespace cog::test {

struct DoctorProject {
  TempDir temp;

  DoctorProject& write(const std::string& relative, const std::string& text) {
    auto path = temp.path / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return *this;
  }
  std::string read(const std::string& relative) const {
    std::ifstream in(temp.path / relative, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  bool exists(const std::string& relative) const { return std::filesystem::exists(temp.path / relative); }
  std::filesystem::path config() const { return temp.path / "cog.yaml"; }
  builder::doctor::Project inspect() const { return builder::doctor::inspect_project(config()); }
};

struct FakeHost {
  std::map<std::string, std::string> env;
  std::optional<std::string> runtime = std::string("runc (/usr/sbin/runc)");
  std::optional<int> driver;

  builder::doctor::Host host() const {
    builder::doctor::Host host;
    auto variables = env;
    host.getenv = [variables](const std::string& name) -> std::optional<std::string> {
      auto found = variables.find(name);
      if (found == variables.end()) return std::nullopt;
      return found->second;
    };
    auto found_runtime = runtime;
    host.container_runtime = [found_runtime] { return found_runtime; };
    auto found_driver = driver;
    host.driver_cuda_version = [found_driver] { return found_driver; };
    return host;
  }
};

// What `check` finds in `project` on a default FakeHost.
inline std::vector<builder::doctor::Finding> findings(const std::unique_ptr<builder::doctor::Check>& check,
                                                      const DoctorProject& project) {
  return check->run(project.inspect(), FakeHost{}.host()).findings;
}

inline const char* const kRunnerPy =
    "from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n    def run(self, name: str) -> str:\n"
    "        return name\n";
inline const char* const kCogYaml = "build:\n  python_version: \"3.11\"\nrun: \"run.py:Runner\"\n";

}  // namespace cog::test
