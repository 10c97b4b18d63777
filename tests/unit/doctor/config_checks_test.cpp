#include <doctest/doctest.h>

#include "doctor_fixture.hpp"

using namespace cog::builder::doctor;
using cog::test::DoctorProject;
using cog::test::FakeHost;
using cog::test::findings;

TEST_CASE("config-parse reports YAML syntax at its line, later config checks skip") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: [\n").write("run.py", cog::test::kRunnerPy);
  auto found = findings(config_parse_check(), project);
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::Error);
  CHECK(found[0].where.file == "cog.yaml");
  CHECK(found[0].where.line > 0);
  CHECK_FALSE(found[0].remediation.empty());
  CHECK(config_schema_check()->run(project.inspect(), FakeHost{}.host()).skipped == "cog.yaml does not parse");
}

TEST_CASE("config-schema carries the loader's errors and fixes, reference errors go to config-predict-ref") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\n  gpux: true\nrun: \"missing.py:Runner\"\n");
  auto schema = findings(config_schema_check(), project);
  REQUIRE(schema.size() == 1);
  CHECK(schema[0].message == "unknown field \"gpux\" under build");
  CHECK(schema[0].where.line == 3);
  CHECK(schema[0].remediation == "did you mean \"gpu\"?");
  auto reference = findings(predict_ref_check(), project);
  REQUIRE(reference.size() == 1);
  CHECK(reference[0].message.find("missing.py does not exist") != std::string::npos);
  CHECK(reference[0].where.line == 4);
}

TEST_CASE("config-predict-ref finds a class that is not defined, and a config without any reference") {
  DoctorProject project;
  project.write("run.py", cog::test::kRunnerPy)
      .write("cog.yaml", "build:\n  python_version: \"3.11\"\nrun: \"run.py:Model\"\n");
  auto found = findings(predict_ref_check(), project);
  REQUIRE(found.size() == 1);
  CHECK(found[0].message.find("does not define \"Model\"") != std::string::npos);
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\n");
  found = findings(predict_ref_check(), project);
  REQUIRE(found.size() == 1);
  CHECK(found[0].message.find("no predict or train reference") != std::string::npos);
  project.write("cog.yaml", cog::test::kCogYaml);
  CHECK(findings(predict_ref_check(), project).empty());
  CHECK(findings(config_schema_check(), project).empty());
}

TEST_CASE("locations parse from the loader's where text") {
  CHECK(parse_location("cog.yaml:4:3").line == 4);
  CHECK(parse_location("cog.yaml:4:3").column == 3);
  CHECK(parse_location("cog.yaml:7").line == 7);
  CHECK(parse_location("cog.yaml").file == "cog.yaml");
  CHECK(parse_location("cog.yaml").line == 0);
}

TEST_CASE("deprecated fields are warnings naming the replacement, --fix rewrites only those lines") {
  DoctorProject project;
  project.write("run.py", cog::test::kRunnerPy)
      .write("cog.yaml",
             "# my model\nbuild:\n  python_version: \"3.11\"\n  python_packages: [\"six==1.16.0\", \"tqdm\"]\n"
             "  pre_install:\n  - echo one\n  - echo two\n\n  system_packages:\n    - git\ntests:\n  - {}\nrun: "
             "\"run.py:Runner\"\n");
  auto check = deprecated_fields_check();
  auto found = findings(check, project);
  REQUIRE(found.size() == 3);
  CHECK(found[0].message == "deprecated field \"build.python_packages\": use \"build.python_requirements\" instead");
  CHECK(found[0].where.line == 4);
  CHECK(found[0].severity == Severity::Warning);
  CHECK(found[1].where.line == 5);
  CHECK(found[2].where.line == 11);
  for (const auto& finding : found) CHECK(finding.fixable);
  auto changes = check->fix(project.inspect());
  CHECK(changes.size() == 3);
  CHECK(project.read("requirements.txt") == "six==1.16.0\ntqdm\n");
  CHECK(project.read("cog.yaml") ==
        "# my model\nbuild:\n  python_version: \"3.11\"\n  python_requirements: requirements.txt\n"
        "  run:\n  - echo one\n  - echo two\n\n  system_packages:\n    - git\nrun: \"run.py:Runner\"\n");
  CHECK(findings(check, project).empty());
  CHECK(findings(config_schema_check(), project).empty());
}

TEST_CASE("deprecated fields that cannot be moved safely get a remediation, not a fix") {
  DoctorProject project;
  project.write("run.py", cog::test::kRunnerPy)
      .write("requirements.txt", "numpy\n")
      .write("cog.yaml",
             "build:\n  python_version: \"3.11\"\n  python_packages:\n    - six\n  pre_install:\n    - echo a\n"
             "  run:\n    - echo b\nrun: \"run.py:Runner\"\n");
  auto found = findings(deprecated_fields_check(), project);
  REQUIRE(found.size() == 2);
  CHECK_FALSE(found[0].fixable);
  CHECK(found[0].remediation.find("requirements.txt already exists") != std::string::npos);
  CHECK_FALSE(found[1].fixable);
  CHECK(found[1].remediation.find("end of build.run") != std::string::npos);
}
