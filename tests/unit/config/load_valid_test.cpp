// cog.yaml files that load, and what the typed Config holds afterwards.
#include "tests/unit/config/temp_project.hpp"

using cog::builder::config::Requirement;
using cog::test::TempProject;

TEST_CASE("a minimal HEAD cog.yaml loads") {
  TempProject project;
  auto loaded = project.load("build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n");
  const auto& config = loaded.config;
  CHECK(config.build.python_version == "3.12");
  CHECK(config.build.python_version_as_written == "3.12");
  CHECK(config.run == "run.py:Runner");
  CHECK_FALSE(config.run_from_legacy_predict);
  CHECK_FALSE(config.build.gpu);
  CHECK(config.project_dir == project.dir());
  CHECK(config.config_path == project.dir() / "cog.yaml");
  CHECK(loaded.warnings.empty());
}

TEST_CASE("python_version as a YAML number keeps its text: 3.10 is not 3.1") {
  TempProject project;
  CHECK(project.load("build:\n  python_version: 3.10\n").config.build.python_version == "3.10");
  CHECK(project.load("build:\n  python_version: 3.12\n").config.build.python_version == "3.12");
  CHECK(project.load("build:\n  python_version: 3.13\n").config.build.python_version == "3.13");
}

TEST_CASE("a patch version is stripped with a warning") {
  TempProject project;
  auto loaded = project.load("build:\n  python_version: \"3.12.1\"\n");
  CHECK(loaded.config.build.python_version == "3.12");
  CHECK(loaded.config.build.python_version_as_written == "3.12.1");
  REQUIRE(loaded.warnings.size() == 1);
  CHECK(loaded.warnings[0].describe() ==
        "cog.yaml:2:19: Stripping patch version from Python version 3.12.1 to 3.12 — write "
        "python_version: \"3.12\" to silence this");
}

TEST_CASE("every build field is read") {
  TempProject project;
  project.write("requirements.txt", "torch==2.3.0\n");
  auto config = project
                    .load(R"(build:
  gpu: true
  cuda: "12.1"
  cudnn: "8"
  python_version: "3.11"
  python_requirements: requirements.txt
  system_packages:
    - ffmpeg
    - libgl1
  run:
    - echo hello
    - command: pip install private
      mounts:
        - type: secret
          id: pip
          target: /etc/pip.conf
  sdk_version: "0.18.0a1"
image: r8.im/owner/model
run: run.py:Runner
environment:
  - HELLO=world
  - EMPTY=
  - EQUALS=a=b
)")
                    .config;
  CHECK(config.build.gpu);
  CHECK(config.build.cuda == "12.1");
  CHECK(config.build.cudnn == "8");
  CHECK(config.build.python_requirements == "requirements.txt");
  CHECK(config.build.system_packages == std::vector<std::string>{"ffmpeg", "libgl1"});
  REQUIRE(config.build.run.size() == 2);
  CHECK(config.build.run[0].command == "echo hello");
  CHECK(config.build.run[0].mounts.empty());
  CHECK(config.build.run[1].command == "pip install private");
  REQUIRE(config.build.run[1].mounts.size() == 1);
  CHECK(config.build.run[1].mounts[0].type == "secret");
  CHECK(config.build.run[1].mounts[0].id == "pip");
  CHECK(config.build.run[1].mounts[0].target == "/etc/pip.conf");
  CHECK(config.build.sdk_version == "0.18.0a1");
  CHECK(config.image == "r8.im/owner/model");
  using Pair = std::pair<std::string, std::string>;
  CHECK(config.environment == std::vector<Pair>{{"HELLO", "world"}, {"EMPTY", ""}, {"EQUALS", "a=b"}});
  REQUIRE(config.requirements.size() == 1);
  CHECK(config.requirements[0].name == "torch");
  CHECK(config.requirements[0].pinned_version() == "2.3.0");
}

TEST_CASE("legacy predict, python_packages, pre_install and concurrency.max load with Cog's deprecation warnings") {
  TempProject project;
  project.write("predict.py",
                "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n"
                "    async def predict(self) -> str:\n        return 'x'\n");
  auto loaded = project.load(R"(build:
  python_version: "3.11"
  python_packages:
    - numpy==1.26.4
    - "pillow>=10"
  pre_install:
    - echo before
predict: predict.py:Predictor
concurrency:
  max: 4
  default_target: 2
)");
  const auto& config = loaded.config;
  CHECK(config.run == "predict.py:Predictor");
  CHECK(config.run_from_legacy_predict);
  CHECK(config.build.python_packages == std::vector<std::string>{"numpy==1.26.4", "pillow>=10"});
  CHECK(config.build.pre_install == std::vector<std::string>{"echo before"});
  REQUIRE(config.concurrency.has_value());
  CHECK(config.concurrency->max == 4);
  CHECK(config.concurrency->default_target == 2);
  REQUIRE(config.requirements.size() == 2);
  CHECK(config.requirements[0].name == "numpy");
  CHECK(config.requirements[0].where.str() == "cog.yaml:4:7");
  CHECK(config.requirements[1].specifier == ">=10");
  std::vector<std::string> warnings;
  for (const auto& warning : loaded.warnings) warnings.push_back(warning.describe());
  CHECK(warnings == std::vector<std::string>{
                        "cog.yaml:3:3: deprecated field \"build.python_packages\": use "
                        "\"build.python_requirements\" instead",
                        "cog.yaml:6:3: deprecated field \"build.pre_install\": use \"build.run\" instead",
                        "cog.yaml:8:1: deprecated field \"predict\": use \"run\" instead",
                        "cog.yaml:10:3: deprecated field \"concurrency.max\": use \"@cog.concurrent\" instead",
                    });
}

TEST_CASE("classic fields are accepted and ignored with a warning") {
  TempProject project;
  auto loaded = project.load(R"(build:
  python_version: "3.12"
  fast: true
  cog_runtime: true
  python_overrides: overrides.txt
tests:
  - inputs: {prompt: hi}
)");
  CHECK(loaded.config.build.fast == true);
  CHECK(loaded.config.build.cog_runtime == true);
  CHECK(loaded.config.build.python_overrides == "overrides.txt");
  REQUIRE(loaded.warnings.size() == 4);
  CHECK(loaded.warnings[0].describe() ==
        "cog.yaml:3:3: field \"build.fast\" is ignored: it only applied to classic Cog (0.15/0.16) — "
        "remove it from cog.yaml");
  CHECK(loaded.warnings[3].describe().starts_with("cog.yaml:6:1: field \"tests\" is ignored"));
}

TEST_CASE("runner references: subdirectories, functions, imports, async functions, train") {
  TempProject project;
  project.write("my-subdir/predict.py", "import os\n\ndef run(text: str) -> str:\n    return text\n");
  project.write("train.py", "async def train(n: int) -> int:\n    return n\n");
  project.write("imported.py", "from impl import (\n    Helper,\n    Runner,\n)\n");
  project.write("guarded.py", "try:\n    from fast import Runner\nexcept ImportError:\n    Runner = None\n");
  project.write("assigned.py", "Runner: type = object\n");
  CHECK(project.load("build: {python_version: '3.12'}\nrun: my-subdir/predict.py:run\ntrain: train.py:train\n")
            .config.train == "train.py:train");
  CHECK(project.errors("build: {python_version: '3.12'}\nrun: imported.py:Runner\n").empty());
  CHECK(project.errors("build: {python_version: '3.12'}\nrun: guarded.py:Runner\n").empty());
  CHECK(project.errors("build: {python_version: '3.12'}\nrun: assigned.py:Runner\n").empty());
}

TEST_CASE("managed weights load with their sources") {
  TempProject project;
  auto config = project
                    .load(R"(build:
  python_version: "3.12"
model: r8.im/owner/model
weights:
  - name: base-model
    target: /src/weights/base
    source:
      uri: hf://owner/repo
      include: ["*.safetensors"]
      exclude: ["*.bin"]
  - name: lora.v2
    target: /src/weights/lora
    source:
      - uri: https://example.com/a.tar
      - uri: file://./extra
)")
                    .config;
  CHECK(config.model == "r8.im/owner/model");
  REQUIRE(config.weights.size() == 2);
  CHECK(config.weights[0].name == "base-model");
  CHECK(config.weights[0].target == "/src/weights/base");
  REQUIRE(config.weights[0].sources.size() == 1);
  CHECK(config.weights[0].sources[0].include == std::vector<std::string>{"*.safetensors"});
  CHECK(config.weights[0].sources[0].exclude == std::vector<std::string>{"*.bin"});
  CHECK(config.weights[1].sources.size() == 2);
}

TEST_CASE("null sections and empty lists are accepted") {
  TempProject project;
  auto config =
      project.load("build:\n  python_version: '3.12'\n  system_packages:\n  run:\nenvironment:\nweights:\n").config;
  CHECK(config.build.system_packages.empty());
  CHECK(config.environment.empty());
  CHECK(config.weights.empty());
}

TEST_CASE("the files of the example projects load") {
  auto example = std::filesystem::path(COG_TEST_DATA) / ".." / "examples" / "hello" / "cog.yaml";
  if (std::filesystem::exists(example)) {
    auto loaded = cog::builder::config::load_config(example);
    CHECK_FALSE(loaded.config.run.empty());
  }
}
