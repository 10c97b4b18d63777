#include <doctest/doctest.h>

#include "doctor_fixture.hpp"

using namespace cog::builder::doctor;
using cog::test::DoctorProject;
using cog::test::FakeHost;
using cog::test::findings;

TEST_CASE("pydantic models with arbitrary_types_allowed become cog.BaseModel") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml)
      .write("run.py", cog::test::kRunnerPy)
      .write("models/output.py",
             "from cog import Path\nfrom pydantic import BaseModel, ConfigDict, Field\n\n\n"
             "class Output(BaseModel):\n    model_config = ConfigDict(arbitrary_types_allowed=True)\n"
             "    file: Path = Field(description='x')\n\n\nclass Other(BaseModel):\n    class Config:\n"
             "        arbitrary_types_allowed = True\n\n    text: str\n");
  auto check = pydantic_basemodel_check();
  auto found = findings(check, project);
  REQUIRE(found.size() == 2);
  CHECK(found[0].where.str() == "models/output.py:5");
  CHECK(found[1].where.str() == "models/output.py:10");
  CHECK(found[0].fixable);
  check->fix(project.inspect());
  CHECK(project.read("models/output.py") ==
        "from cog import Path\nfrom pydantic import Field\nfrom cog import BaseModel\n\n\n"
        "class Output(BaseModel):\n    file: Path = Field(description='x')\n\n\nclass Other(BaseModel):\n"
        "    text: str\n");
  CHECK(findings(check, project).empty());
}

TEST_CASE("a file that still needs pydantic's BaseModel is reported, not rewritten") {
  DoctorProject project;
  std::string source =
      "from pydantic import BaseModel\n\n\nclass Output(BaseModel):\n"
      "    model_config = {'arbitrary_types_allowed': True}\n    x: int\n\n\nclass Plain(BaseModel):\n    y: int\n";
  project.write("cog.yaml", cog::test::kCogYaml).write("run.py", source);
  auto check = pydantic_basemodel_check();
  auto found = findings(check, project);
  REQUIRE(found.size() == 1);
  CHECK_FALSE(found[0].fixable);
  CHECK(check->fix(project.inspect()).empty());
  CHECK(project.read("run.py") == source);
}

TEST_CASE("deprecated imports: cog.types and ExperimentalFeatureWarning are fixed, emit_metric is explained") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml)
      .write("run.py",
             "import warnings\nfrom cog.types import ExperimentalFeatureWarning, Path as P\n"
             "from cog import BaseRunner, emit_metric\n\n"
             "warnings.filterwarnings('ignore', category=ExperimentalFeatureWarning)\n"
             "with warnings.catch_warnings():\n    warnings.simplefilter('ignore', ExperimentalFeatureWarning)\n");
  auto check = deprecated_imports_check();
  auto found = findings(check, project);
  REQUIRE(found.size() == 3);
  CHECK(found[0].where.str() == "run.py:2");
  CHECK(found[0].message.find("ExperimentalFeatureWarning") != std::string::npos);
  CHECK(found[1].message.find("cog.types") != std::string::npos);
  CHECK(found[2].where.str() == "run.py:3");
  CHECK(found[2].message == "cog.emit_metric is deprecated");
  CHECK_FALSE(found[2].fixable);
  CHECK(found[0].fixable);
  check->fix(project.inspect());
  CHECK(project.read("run.py") ==
        "import warnings\nfrom cog import Path as P\nfrom cog import BaseRunner, emit_metric\n\n"
        "with warnings.catch_warnings():\n    pass\n");
  found = findings(check, project);
  REQUIRE(found.size() == 1);
  CHECK(found[0].message == "cog.emit_metric is deprecated");
}

TEST_CASE("ExperimentalFeatureWarning used beyond a filter is left to the user") {
  DoctorProject project;
  std::string source = "from cog import ExperimentalFeatureWarning\n\nX = [ExperimentalFeatureWarning]\n";
  project.write("cog.yaml", cog::test::kCogYaml).write("run.py", source);
  auto found = findings(deprecated_imports_check(), project);
  REQUIRE(found.size() == 1);
  CHECK_FALSE(found[0].fixable);
  deprecated_imports_check()->fix(project.inspect());
  CHECK(project.read("run.py") == source);
}

TEST_CASE("missing annotations on run(), predict(), train() and function runners are errors") {
  DoctorProject project;
  project.write("cog.yaml", "build:\n  python_version: \"3.11\"\nrun: \"run.py:Runner\"\ntrain: \"train.py:train\"\n")
      .write("run.py",
             "class Runner:\n    def setup(self, weights):\n        pass\n\n    def run(self, prompt, n: int = 1,\n"
             "            *args, **kwargs) -> str:\n        return prompt\n")
      .write("train.py", "def train(data: str, steps=10):\n    pass\n");
  auto found = findings(missing_annotations_check(), project);
  REQUIRE(found.size() == 3);
  CHECK(found[0].where.str() == "run.py:5");
  CHECK(found[0].message.find("parameter \"prompt\" of Runner.run()") == 0);
  CHECK(found[0].severity == Severity::Error);
  CHECK(found[1].where.str() == "train.py:1");
  CHECK(found[1].message.find("parameter \"steps\" of train()") == 0);
  CHECK(found[2].message == "train() has no return type annotation: Cog cannot tell what output it gives");
  project.write("run.py", cog::test::kRunnerPy).write("train.py", "def train(data: str) -> None:\n    pass\n");
  CHECK(findings(missing_annotations_check(), project).empty());
}

TEST_CASE("virtual environments and hidden directories are not the model's code") {
  DoctorProject project;
  std::string bad = "from cog.types import Path\n";
  project.write("cog.yaml", cog::test::kCogYaml)
      .write("run.py", cog::test::kRunnerPy)
      .write(".venv/pyvenv.cfg", "")
      .write(".venv/lib/x.py", bad)
      .write("env/pyvenv.cfg", "")
      .write("env/lib/x.py", bad)
      .write("__pycache__/x.py", bad);
  CHECK(findings(deprecated_imports_check(), project).empty());
  project.write("lib/x.py", bad);
  CHECK(findings(deprecated_imports_check(), project).size() == 1);
}
