// Cog's labels: the completed config's concurrency, and the OCI revision/version from CI or git.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <cstdlib>
#include <fstream>

#include "builder/pipeline/labels.hpp"
#include "support/subprocess.hpp"
#include "tests/unit/temp_dir.hpp"

using cog::test::TempDir;
using namespace cog::builder::pipeline;

namespace {

void git(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir.string(), "-c", "user.name=t", "-c", "user.email=t@e"});
  const auto result = cog::support::run_captured(args);
  REQUIRE_MESSAGE(result.exit_code == 0, result.stderr_text);
}

// Unsets the CI variables for the test, and restores nothing: the test binary does not need them.
struct NoCiVariables {
  NoCiVariables() {
    unsetenv("GITHUB_SHA");
    unsetenv("GITHUB_REF_NAME");
  }
  ~NoCiVariables() {
    unsetenv("GITHUB_SHA");
    unsetenv("GITHUB_REF_NAME");
  }
};

}  // namespace

TEST_CASE("run.cog.config has concurrency when cog.yaml sets it, even to 1, or the decorator asks for more") {
  cog::builder::config::Config config;
  config.build.python_version = "3.11";
  config.run = "run.py:Runner";
  CHECK(config_label(config, 1).find("concurrency") == std::string::npos);
  CHECK(config_label(config, 4).find(R"("concurrency":{"max":4})") != std::string::npos);
  config.concurrency = cog::builder::config::Concurrency{};
  config.concurrency->max = 1;
  CHECK(config_label(config, 1).find(R"("concurrency":{"max":1})") != std::string::npos);
}

TEST_CASE("revision and version come from the project's git work tree") {
  NoCiVariables clean;
  TempDir temp;
  CHECK(source_revision(temp.path).empty());  // not a work tree
  CHECK(source_version(temp.path).empty());
  git(temp.path, {"init", "-q"});
  std::ofstream(temp.path / "run.py") << "x = 1\n";
  git(temp.path, {"add", "run.py"});
  git(temp.path, {"commit", "-q", "-m", "first"});
  const std::string head =
      cog::support::run_captured({"git", "-C", temp.path.string(), "rev-parse", "HEAD"}).stdout_text;
  CHECK(source_revision(temp.path) + "\n" == head);
  CHECK(source_version(temp.path).empty());  // no tags yet
  git(temp.path, {"tag", "v1.2.3"});
  CHECK(source_version(temp.path) == "v1.2.3");
  std::ofstream(temp.path / "run.py") << "x = 2\n";
  CHECK(source_version(temp.path) == "v1.2.3-dirty");
}

TEST_CASE("CI's variables win over git") {
  NoCiVariables clean;
  TempDir temp;
  setenv("GITHUB_SHA", "deadbeef", 1);
  setenv("GITHUB_REF_NAME", "v9", 1);
  CHECK(source_revision(temp.path) == "deadbeef");
  CHECK(source_version(temp.path) == "v9");
  const auto labels = image_labels({.version = "0.16.0", .revision = "deadbeef", .source_version = "v9"});
  CHECK(labels.at("org.opencontainers.image.revision") == "deadbeef");
  CHECK(labels.at("org.opencontainers.image.version") == "v9");
  CHECK(image_labels({}).count("org.opencontainers.image.version") == 0);
}
