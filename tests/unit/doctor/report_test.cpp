#include <doctest/doctest.h>

#include "doctor_fixture.hpp"

using namespace cog::builder::doctor;
using cog::test::DoctorProject;
using cog::test::FakeHost;

TEST_CASE("the checks run in Cog's order") {
  std::vector<std::string> ids;
  for (const auto& check : all_checks()) ids.push_back(check->id());
  CHECK(ids == std::vector<std::string>{"config-parse", "config-schema", "predict-to-run-migration",
                                        "config-deprecated-fields", "config-predict-ref", "python-pydantic-basemodel",
                                        "python-deprecated-imports", "python-missing-type-annotations", "env-docker",
                                        "env-python-version", "env-gpu-compat"});
}

TEST_CASE("a clean project says so and exits 0") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml).write("run.py", cog::test::kRunnerPy);
  auto report = run_doctor(project.config(), false, FakeHost{}.host());
  std::string text = render_report(report, false);
  CHECK(text.find("experimental") != std::string::npos);
  CHECK(text.find("no issues found") != std::string::npos);
  CHECK(exit_code(report) == 0);
}

TEST_CASE("warnings keep exit code 0, errors make it 1") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"run.py:Runner\"\n")
      .write("run.py", cog::test::kRunnerPy);
  auto report = run_doctor(project.config(), false, FakeHost{}.host());
  CHECK(report.warnings() == 1);
  CHECK(report.errors() == 0);
  CHECK(exit_code(report) == 0);
  std::string text = render_report(report, false);
  CHECK(text.find("cog.yaml:3: warning: deprecated field \"predict\"") != std::string::npos);
  CHECK(text.find("Remediation: replace `predict:` with `run:`") != std::string::npos);
  CHECK(text.find("0 errors, 1 warning") != std::string::npos);

  project.write("run.py", "class Runner:\n    def run(self, x) -> str:\n        return x\n");
  report = run_doctor(project.config(), false, FakeHost{}.host());
  CHECK(report.errors() == 1);
  CHECK(exit_code(report) == 1);
}

TEST_CASE("--fix reports what it fixed, and later checks see the fixed project") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
      .write("predict.py",
             "from cog import BasePredictor\nfrom cog.types import Path\n\n\nclass Predictor(BasePredictor):\n"
             "    def predict(self, x) -> Path:\n        return Path(x)\n");
  auto report = run_doctor(project.config(), true, FakeHost{}.host());
  std::string text = render_report(report, true);
  CHECK(text.find("Fixed: Deprecated predict interface names") != std::string::npos);
  CHECK(text.find("Fixed: Deprecated cog imports") != std::string::npos);
  // The annotation check ran on run.py, the file the migration wrote.
  CHECK(text.find("run.py:6: error: parameter \"x\" of Runner.run()") != std::string::npos);
  CHECK(text.find("Remediation: annotate it") != std::string::npos);
  CHECK(exit_code(report) == 1);
  CHECK(project.read("run.py").find("from cog import Path\n") != std::string::npos);
}

TEST_CASE("a refused fix is an error in the report") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
      .write("predict.py", "class Predictor:\n    def predict(self) -> str:\n        return ''\n")
      .write("run.py", "");
  auto report = run_doctor(project.config(), true, FakeHost{}.host());
  CHECK(exit_code(report) == 1);
  CHECK(render_report(report, true).find("run.py already exists") != std::string::npos);
  CHECK(project.exists("predict.py"));
}
