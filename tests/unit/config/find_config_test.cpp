// Project discovery: walking up from the working directory to the nearest cog.yaml.
#include "builder/config/load.hpp"
#include "tests/unit/config/temp_project.hpp"

using cog::builder::config::find_config;
using cog::builder::config::load_config;
using cog::test::TempProject;

TEST_CASE("find_config finds cog.yaml in the directory or any parent") {
  TempProject project;
  project.write("cog.yaml", "build:\n  python_version: '3.12'\n");
  project.write("a/b/c/keep.txt", "");
  CHECK(find_config(project.dir()) == project.dir() / "cog.yaml");
  CHECK(find_config(project.dir() / "a/b/c") == project.dir() / "cog.yaml");
  project.write("a/other.yaml", "build:\n  python_version: '3.11'\n");
  CHECK(find_config(project.dir() / "a/b", "other.yaml") == project.dir() / "a/other.yaml");
  auto loaded = load_config(find_config(project.dir() / "a/b/c"));
  CHECK(loaded.config.project_dir == project.dir());
}

TEST_CASE("find_config reports the start directory when there is no cog.yaml") {
  TempProject project;
  try {
    find_config(project.dir(), "no-such-config-file.yaml");
    FAIL("expected NotFound");
  } catch (const cog::Error& error) {
    CHECK(error.kind() == cog::ErrorKind::NotFound);
    CHECK(error.message() ==
          "no-such-config-file.yaml not found in " + project.dir().string() + " (or in any parent directories)");
    CHECK_FALSE(error.fix().empty());
  }
}

TEST_CASE("load_config reads the file, and a missing file is NotFound") {
  TempProject project;
  project.write("cog.yaml", "build:\n  python_version: 3.11\nrun: run.py:Runner\n");
  CHECK(load_config(project.dir() / "cog.yaml").config.build.python_version == "3.11");
  CHECK_THROWS_AS(load_config(project.dir() / "missing.yaml"), cog::Error);
}

TEST_CASE("errors name the config file as given with -f") {
  TempProject project;
  project.write("other.yaml", "build:\n  gpu: 1\n  python_version: '3.12'\n");
  try {
    load_config(project.dir() / "other.yaml");
    FAIL("expected errors");
  } catch (const cog::Errors& errors) {
    REQUIRE(errors.all().size() == 1);
    CHECK(errors.all()[0].describe() ==
          "other.yaml:2:8: schema error in \"build.gpu\": must be a boolean — write true or false");
  }
}
