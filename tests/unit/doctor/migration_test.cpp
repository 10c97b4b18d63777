#include <doctest/doctest.h>

#include "doctor_fixture.hpp"

using namespace cog::builder::doctor;
using cog::test::DoctorProject;
using cog::test::FakeHost;

namespace {

const char* const kLegacy =
    "from cog import BasePredictor, Input\n\n\nclass Predictor(BasePredictor):\n"
    "    def predict(self, name: str = Input(default=\"predict\")) -> str:\n        return name\n";

std::vector<Finding> findings(const DoctorProject& project) {
  return predict_to_run_check()->run(project.inspect(), FakeHost{}.host()).findings;
}

}  // namespace

TEST_CASE("predict-to-run-migration names every deprecated name with its line") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
      .write("predict.py", kLegacy);
  auto found = findings(project);
  REQUIRE(found.size() == 5);
  CHECK(found[0].where.str() == "cog.yaml:3");
  CHECK(found[0].message == "deprecated field \"predict\": use \"run\" instead");
  CHECK(found[1].where.str() == "predict.py");
  CHECK(found[2].where.str() == "predict.py:1");  // BasePredictor
  CHECK(found[3].where.str() == "predict.py:4");  // class Predictor
  CHECK(found[4].where.str() == "predict.py:5");  // def predict
  for (const auto& finding : found) {
    CHECK(finding.severity == Severity::Warning);
    CHECK(finding.fixable);
  }
}

TEST_CASE("--fix renames predict.py, Predictor, BasePredictor, def predict and cog.yaml's predict") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"  # the model\n")
      .write("predict.py", kLegacy);
  auto changes = predict_to_run_check()->fix(project.inspect());
  CHECK(changes.size() == 3);
  CHECK_FALSE(project.exists("predict.py"));
  CHECK(project.read("run.py") ==
        "from cog import BaseRunner, Input\n\n\nclass Runner(BaseRunner):\n"
        "    def run(self, name: str = Input(default=\"predict\")) -> str:\n        return name\n");
  CHECK(project.read("cog.yaml") == "build:\n  python_version: \"3.11\"\nrun: \"run.py:Runner\"\n");
  CHECK(findings(project).empty());
  CHECK(project.inspect().load_errors.empty());
}

TEST_CASE("--fix keeps the subdirectory and a function-form runner") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"src/predict.py:predict\"\n")
      .write("src/predict.py", "def predict(text: str) -> str:\n    return text\n");
  predict_to_run_check()->fix(project.inspect());
  CHECK(project.read("src/run.py") == "def run(text: str) -> str:\n    return text\n");
  CHECK(project.read("cog.yaml") == "build:\n  python_version: \"3.11\"\nrun: \"src/run.py:run\"\n");
}

TEST_CASE("a run.py already there stops the migration before anything changes") {
  DoctorProject project;
  std::string yaml = "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n";
  project.write("cog.yaml", yaml).write("predict.py", kLegacy).write("run.py", "# mine\n");
  CHECK_THROWS_WITH_AS(predict_to_run_check()->fix(project.inspect()), doctest::Contains("run.py already exists"),
                       cog::Error);
  CHECK(project.read("cog.yaml") == yaml);
  CHECK(project.read("predict.py") == kLegacy);
  CHECK(project.read("run.py") == "# mine\n");
}

TEST_CASE("a modern project has nothing to migrate") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml).write("run.py", cog::test::kRunnerPy);
  CHECK(findings(project).empty());
}

TEST_CASE("run.py with only a deprecated method name keeps cog.yaml as it is") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml)
      .write("run.py", "class Runner:\n    def predict(self) -> str:\n        return 'x'\n");
  auto found = findings(project);
  REQUIRE(found.size() == 1);
  CHECK(found[0].where.str() == "run.py:2");
  predict_to_run_check()->fix(project.inspect());
  CHECK(project.read("run.py") == "class Runner:\n    def run(self) -> str:\n        return 'x'\n");
  CHECK(project.read("cog.yaml") == cog::test::kCogYaml);
}

TEST_CASE("another module importing predict stops the migration, naming it") {
  DoctorProject project;
  std::string yaml = "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n";
  project.write("cog.yaml", yaml)
      .write("predict.py", kLegacy)
      .write("tools/check.py", "\nfrom predict import Predictor\n");
  CHECK_THROWS_WITH_AS(predict_to_run_check()->fix(project.inspect()),
                       doctest::Contains("tools/check.py:2 imports the module predict"), cog::Error);
  CHECK(project.read("predict.py") == kLegacy);
  CHECK(project.read("cog.yaml") == yaml);
}

TEST_CASE("a runner outside the project is never renamed") {
  DoctorProject project;
  project.write("model/cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"../predict.py:Predictor\"\n")
      .write("predict.py", kLegacy);
  auto project_inside = inspect_project(project.temp.path / "model" / "cog.yaml");
  auto found = predict_to_run_check()->run(project_inside, FakeHost{}.host()).findings;
  REQUIRE(found.size() == 1);  // only cog.yaml's predict:
  CHECK(found[0].where.file == "cog.yaml");
  CHECK(project.read("predict.py") == kLegacy);
}
