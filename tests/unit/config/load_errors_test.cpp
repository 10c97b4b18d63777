// cog.yaml files that must fail, with the exact located message and fix.
#include "tests/unit/config/temp_project.hpp"

using cog::test::TempProject;

namespace {
const std::string kBuild = "build:\n  python_version: \"3.12\"\n";
}

TEST_CASE("YAML syntax errors name the line and column") {
  TempProject project;
  CHECK(project.error("build:\n  python_version: \"3.12\"\nrun: a: b\n") ==
        "cog.yaml:3:7: failed to parse cog.yaml: invalid YAML: illegal map value — fix the YAML syntax "
        "at this position (indent with spaces, quote values that contain ': ' or start with special "
        "characters)");
  CHECK(project.error("build: [1, 2\n")
            .rfind("cog.yaml:2:1: failed to parse cog.yaml: invalid YAML: end of "
                   "sequence flow not found",
                   0) == 0);
}

TEST_CASE("duplicate keys are an error at the second one") {
  TempProject project;
  CHECK(project.error("build:\n  python_version: '3.12'\n  python_version: '3.11'\n") ==
        "cog.yaml:3:3: mapping key \"python_version\" already defined at line 2 — remove one of the "
        "two \"python_version\" entries");
}

TEST_CASE("an empty file is an empty config, so python_version is missing") {
  TempProject project;
  const std::string expected =
      "cog.yaml:1:1: invalid build.python_version: python_version is required — Add it to the build "
      "section of your cog.yaml, e.g. `python_version: \"3.13\"`";
  CHECK(project.error("") == expected);
  CHECK(project.error("# only a comment\n") == expected);
  CHECK(project.error("image: x\n") == expected);
  CHECK(project.error("\nbuild:\n  gpu: true\n") ==
        "cog.yaml:2:1: invalid build.python_version: python_version is required — Add it to the build "
        "section of your cog.yaml, e.g. `python_version: \"3.13\"`");
  CHECK(
      project.error("build:\n").starts_with("cog.yaml:1:1: invalid build.python_version: python_version is required"));
}

TEST_CASE("python_version shape and minimum") {
  TempProject project;
  CHECK(project.error("build:\n  python_version: \"3.9\"\n") ==
        "cog.yaml:2:19: invalid build.python_version \"3.9\": minimum supported Python version is "
        "3.10 — use python_version: \"3.10\" or newer");
  CHECK(project.error("build:\n  python_version: 3.8\n").find("minimum supported Python version is 3.10") !=
        std::string::npos);
  CHECK(project.error("build:\n  python_version: 2.7\n").find("\"2.7\": minimum supported") != std::string::npos);
  CHECK(project.error("build:\n  python_version: \"3\"\n") ==
        "cog.yaml:2:19: invalid build.python_version \"3\": must include major and minor version "
        "(e.g., '3.11') — write major.minor, e.g. python_version: \"3.13\"");
  CHECK(project.error("build:\n  python_version: 3\n").find("must include major and minor version") !=
        std::string::npos);
  CHECK(project.error("build:\n  python_version: latest\n") ==
        "cog.yaml:2:19: invalid build.python_version \"latest\": not a valid Python version — write "
        "major.minor, e.g. python_version: \"3.13\"");
  CHECK(project.error("build:\n  python_version: [3, 12]\n") ==
        "cog.yaml:2:19: schema error in \"build.python_version\": must be a string or number — write a "
        "version, e.g. python_version: \"3.13\"");
}

TEST_CASE("unknown fields suggest the closest name") {
  TempProject project;
  CHECK(project.error("build:\n  python_version: \"3.12\"\n  python_pakages:\n    - torch\n") ==
        "cog.yaml:3:3: unknown field \"python_pakages\" under build — did you mean \"python_packages\"?");
  CHECK(project.error(kBuild + "predcit: run.py:Runner\n") ==
        "cog.yaml:3:1: unknown field \"predcit\" at the top level of cog.yaml — did you mean \"predict\"?");
  CHECK(project.error(kBuild + "gpu: true\n") ==
        "cog.yaml:3:1: unknown field \"gpu\" at the top level of cog.yaml — \"gpu\" belongs in the "
        "build section: indent it under build:");
  CHECK(project.error(kBuild + "system_pakages: [x]\n") ==
        "cog.yaml:3:1: unknown field \"system_pakages\" at the top level of cog.yaml — did you mean "
        "\"system_packages\"? It belongs in the build section");
  auto error = project.error(kBuild + "zzz: 1\n");
  CHECK(error.rfind("cog.yaml:3:1: unknown field \"zzz\" at the top level of cog.yaml — remove it; the "
                    "fields allowed there are: build, concurrency, environment,",
                    0) == 0);
  CHECK(project.error(kBuild + "concurrency:\n  max: 1\n  maxx: 1\n") ==
        "cog.yaml:5:3: unknown field \"maxx\" under concurrency — did you mean \"max\"?");
}

TEST_CASE("all errors are reported together") {
  TempProject project;
  auto errors = project.errors("build:\n  python_version: \"3.9\"\n  gpu: yes\n  cuda: 11.8\nfoo: 1\n");
  REQUIRE(errors.size() == 4);
  CHECK(
      errors[0].starts_with("cog.yaml:2:19: invalid build.python_version \"3.9\": minimum supported Python "
                            "version is 3.10"));
  CHECK(errors[1] == "cog.yaml:3:8: schema error in \"build.gpu\": must be a boolean — write true or false");
  CHECK(errors[2] == "cog.yaml:4:9: schema error in \"build.cuda\": must be a string — quote it: cuda: \"11.8\"");
  CHECK(errors[3].starts_with("cog.yaml:5:1: unknown field \"foo\""));
}

TEST_CASE("shape errors use Cog's words") {
  TempProject project;
  CHECK(project.error("- a\n- b\n") ==
        "cog.yaml:1:1: schema error in \"cog.yaml\": must be a mapping — indent \"field: value\" lines "
        "under cog.yaml:");
  CHECK(project.error(kBuild + "environment: A=1\n") ==
        "cog.yaml:3:14: schema error in \"environment\": must be a list — write one \"- item\" line per "
        "entry under environment:");
  CHECK(project.error(kBuild + "concurrency:\n  max: two\n") ==
        "cog.yaml:4:8: schema error in \"concurrency.max\": must be an integer — write a whole number, "
        "e.g. max: 1");
  CHECK(project.error(kBuild + "concurrency:\n  default_target: 1\n") ==
        "cog.yaml:4:3: schema error in \"concurrency\": max is required — add \"max: ...\" to concurrency");
  CHECK(project.error(kBuild + "run: 5\n") ==
        "cog.yaml:3:6: schema error in \"run\": must be a string — quote it: run: \"5\"");
}

TEST_CASE("run and predict together") {
  TempProject project;
  CHECK(project.error(kBuild + "run: run.py:Runner\npredict: run.py:Runner\n") ==
        "cog.yaml:4:1: only one of run or predict can be set — remove predict: (the deprecated name) "
        "and keep run:");
}

TEST_CASE("runner references: form, file and name") {
  TempProject project;
  CHECK(project.error(kBuild + "run: run.py\n") ==
        "cog.yaml:3:6: invalid run \"run.py\": must be in the form 'run.py:Runner' — point it at a "
        "Python file and the class or function in it, e.g. run: \"run.py:Runner\"");
  CHECK(project.error(kBuild + "predict: predict:Predictor\n")
            .find("invalid predict \"predict:Predictor\": must be in the form 'predict.py:Predictor'") !=
        std::string::npos);
  CHECK(project.error(kBuild + "train: train.py:1x\n")
            .find("invalid train \"train.py:1x\": must be in the form 'train.py:Trainer'") != std::string::npos);
  CHECK(project.error(kBuild + "run: missing.py:Runner\n") ==
        "cog.yaml:3:6: invalid run \"missing.py:Runner\": missing.py does not exist in " + project.dir().string() +
            " — create missing.py next to cog.yaml, or fix the path");
  CHECK(project.error(kBuild + "run: run.py:Predictor\n") ==
        "cog.yaml:3:6: invalid run \"run.py:Predictor\": run.py does not define \"Predictor\" — define "
        "class Predictor or def Predictor at the top level of run.py, or fix the name");
  CHECK(project.error(kBuild + "run: ../run.py:Runner\n").find("is outside the project directory") !=
        std::string::npos);
  project.write("nested.py", "class Outer:\n    class Runner:\n        pass\n");
  CHECK(project.error(kBuild + "run: nested.py:Runner\n").find("does not define \"Runner\"") != std::string::npos);
}

TEST_CASE("python_packages and python_requirements together") {
  TempProject project;
  project.write("requirements.txt", "numpy\n");
  CHECK(project.error("build:\n  python_version: '3.12'\n  python_requirements: requirements.txt\n"
                      "  python_packages: [numpy]\n") ==
        "cog.yaml:4:3: only one of python_packages or python_requirements can be set, not both — move "
        "the packages into the requirements file and remove python_packages");
}

TEST_CASE("python_requirements must exist and its errors name the file and line") {
  TempProject project;
  CHECK(project.error(kBuild + "  python_requirements: nope.txt\n") ==
        "cog.yaml:3:24: invalid build.python_requirements \"nope.txt\": file does not exist — create "
        "it next to cog.yaml, or fix the path");
  project.write("requirements.txt", "numpy==1.26\n\ntorch=2.0\n");
  CHECK(project.error(kBuild + "  python_requirements: requirements.txt\n") ==
        "requirements.txt:3: invalid requirement \"torch=2.0\": \"=2.0\" is not a version specifier "
        "(==, >=, ~=, ...) — see https://pip.pypa.io/en/stable/reference/requirement-specifiers/");
}

TEST_CASE("cuda and cudnn shapes") {
  TempProject project;
  CHECK(project.error(kBuild + "  cuda: \"10.2\"\n") ==
        "cog.yaml:3:9: invalid build.cuda \"10.2\": minimum supported CUDA version is 11 — use cuda: "
        "\"11.8\" or newer, or remove it to let Cog choose");
  CHECK(project.error(kBuild + "  cuda: \"12\"\n")
            .find("invalid build.cuda \"12\": must include major and minor version (e.g., '11.8')") !=
        std::string::npos);
  CHECK(project.error(kBuild + "  cuda: \"twelve\"\n").find("not a valid CUDA version") != std::string::npos);
  CHECK(project.error(kBuild + "  cudnn: \"v8\"\n").find("invalid build.cudnn \"v8\": not a valid cuDNN version") !=
        std::string::npos);
  CHECK(project.errors(kBuild + "  cuda: \"11.8.0\"\n  cudnn: \"8\"\n").empty());
}

TEST_CASE("build.run: newline, object form, secret mounts") {
  TempProject project;
  CHECK(project.error(kBuild + "  run:\n    - |\n      apt-get update\n      apt-get install x\n") ==
        "cog.yaml:4:7: One of the commands in 'run' contains a new line, which won't work. This is the "
        "offending line: apt-get update — You need to create a new list item in YAML prefixed with '-' "
        "for each command.");
  CHECK(project.error(kBuild + "  run:\n    - command: x\n      mounts:\n        - type: cache\n"
                               "          id: a\n          target: /b\n") ==
        "cog.yaml:6:17: schema error in \"build.run[0].mounts[0].type\": must be one of \"secret\" — "
        "write \"secret\"");
  CHECK(project.error(kBuild + "  run:\n    - command: x\n      mount: []\n") ==
        "cog.yaml:5:7: unknown field \"mount\" under build.run[0] — did you mean \"mounts\"?");
  CHECK(project.error(kBuild + "  run:\n    - 5\n") ==
        "cog.yaml:4:7: schema error in \"build.run[0]\": must be a string or a mapping with a command "
        "(and optional mounts) — see https://cog.run/yaml");
  CHECK(project.error(kBuild + "  run:\n    - mounts: []\n") ==
        "cog.yaml:4:7: schema error in \"build.run[0]\": command is required — add \"command: ...\" to "
        "build.run[0]");
}

TEST_CASE("sdk_version shape") {
  TempProject project;
  CHECK(project.errors(kBuild + "  sdk_version: prerelease\n").empty());
  CHECK(project.errors(kBuild + "  sdk_version: \"0.18.0rc2\"\n").empty());
  CHECK(project.error(kBuild + "  sdk_version: latest\n") ==
        "cog.yaml:3:16: invalid build.sdk_version \"latest\": not a valid version — write a PEP 440 "
        "version such as \"0.18.0\", or \"prerelease\"");
}

TEST_CASE("concurrency rules") {
  TempProject project;
  CHECK(project.error(kBuild + "concurrency:\n  max: 0\n") ==
        "cog.yaml:4:8: invalid concurrency.max 0: must be at least 1 — set concurrency.max: 1 or more, "
        "or remove the concurrency section");
  CHECK(project.error("build:\n  python_version: '3.10'\nconcurrency:\n  max: 2\n") ==
        "cog.yaml:4:8: invalid concurrency.max 2: concurrency requires Python 3.11 or higher — set "
        "build.python_version: \"3.11\" or newer, or concurrency.max: 1");
  CHECK(project.error("build:\n  python_version: '3.11'\nrun: run.py:Runner\nconcurrency:\n  max: 2\n") ==
        "cog.yaml:5:8: concurrency.max > 1 requires an async run() or predict() method — declare it as "
        "`async def run(self, ...)` in run.py");
}

TEST_CASE("environment rules") {
  TempProject project;
  CHECK(project.error(kBuild + "environment:\n  - NOEQUALS\n") ==
        "cog.yaml:4:5: environment variable \"NOEQUALS\" is not in the KEY=VALUE format — write "
        "NAME=value, with a name of letters, digits and underscores");
  CHECK(project.error(kBuild + "environment:\n  - 1BAD=x\n").find("\"1BAD=x\" is not in the KEY=VALUE format") !=
        std::string::npos);
  CHECK(project.error(kBuild + "environment:\n  - A=1\n  - A=2\n") ==
        "cog.yaml:5:5: environment variable \"A\" is already defined — remove one of the two A= entries");
  for (const char* name : {"PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONUNBUFFERED", "R8_X",
                           "REPLICATE_API", "LIBRARY_PATH", "CUDA_HOME", "NVIDIA_VISIBLE", "NV_X", "PGET_X",
                           "HF_ENDPOINT", "HF_HUB_ENABLE_HF_TRANSFER", "KUBERNETES_X"}) {
    CAPTURE(name);
    CHECK(project.error(kBuild + "environment:\n  - " + name + "=1\n") ==
          "cog.yaml:4:5: environment variable \"" + std::string(name) +
              "\" is not allowed: reserved for internal use — choose another name; Cog and the "
              "platform set " +
              name + " themselves");
  }
  CHECK(project.errors(kBuild + "environment:\n  - HF_HOME=/x\n  - PATHS=1\n  - cuda_home=1\n").empty());
  CHECK(project.error(kBuild + "environment:\n  - 5\n") ==
        "cog.yaml:4:5: schema error in \"environment[0]\": must be a string — quote it: environment: \"5\"");
}

TEST_CASE("image, model and weights rules") {
  TempProject project;
  CHECK(project.error(kBuild + "model: r8.im/owner/name:v1\n") ==
        "cog.yaml:3:8: invalid model \"r8.im/owner/name:v1\": must be a bare repository — tags and "
        "digests are not allowed — remove the :tag or @digest, e.g. model: r8.im/owner/name");
  CHECK(project.error(kBuild + "model: r8.im/owner/name@sha256:abc\n").find("must be a bare repository") !=
        std::string::npos);
  CHECK(project.errors(kBuild + "model: localhost:5000/owner/name\n").empty());
  CHECK(project.error(kBuild + "image: a\nmodel: b\n") ==
        "cog.yaml:4:1: only one of image or model can be set, not both — keep model: for pushing to a "
        "registry, or image: for a local image name");
  CHECK(project.error(kBuild + "weights:\n  - name: w\n    target: /w\n    source: {uri: hf://a/b}\n") ==
        "cog.yaml:3:1: weights require 'model' in cog.yaml — add model: <registry>/<owner>/<name>, the "
        "bare repository the weights are pushed to");
  const std::string model = kBuild + "model: r8.im/o/m\nweights:\n";
  CHECK(project.error(model + "  - name: Bad_Name\n    target: /w\n    source: {uri: x}\n") ==
        "cog.yaml:5:11: invalid weights[0].name \"Bad_Name\": must be an OCI-safe name (lowercase "
        "letters and digits, separated by single '.', '_' or '-') — rename it, e.g. \"model-weights\"");
  CHECK(project.error(model +
                      "  - {name: a, target: /w, source: {uri: x}}\n  - {name: a, target: /v, source: {uri: y}}\n") ==
        "cog.yaml:6:12: duplicate weight name \"a\" — give each entry under weights a different name");
  CHECK(project.error(model + "  - {name: a, target: w, source: {uri: x}}\n")
            .find("invalid weights[0].target \"w\": must be an absolute path") != std::string::npos);
  CHECK(project.error(model + "  - {name: a, target: /, source: {uri: x}}\n")
            .find("invalid weights[0].target \"/\": must not be \"/\"") != std::string::npos);
  CHECK(
      project
          .error(model + "  - {name: a, target: /w, source: {uri: x}}\n  - {name: b, target: /w/, source: {uri: y}}\n")
          .find("invalid weights[1].target \"/w/\": is already the target of weight \"a\"") != std::string::npos);
  CHECK(project
            .error(model +
                   "  - {name: a, target: /w, source: {uri: x}}\n  - {name: b, target: /w/sub, source: {uri: y}}\n")
            .find("overlaps with the target of weight \"a\" (/w)") != std::string::npos);
  CHECK(
      project
          .errors(model + "  - {name: a, target: /w, source: {uri: x}}\n  - {name: b, target: /wx, source: {uri: y}}\n")
          .empty());
  CHECK(project.error(model + "  - {name: a, target: /w}\n") ==
        "cog.yaml:5:5: schema error in \"weights[0]\": source is required — add \"source: ...\" to weights[0]");
  CHECK(project.error(model + "  - {name: a, target: /w, source: []}\n") ==
        "cog.yaml:5:35: schema error in \"weights[0].source\": must not be empty — add at least one "
        "entry, or remove source:");
  CHECK(project.error(model + "  - {name: a, target: /w, source: {url: x}}\n")
            .find("unknown field \"url\" under weights[0].source — did you mean \"uri\"?") != std::string::npos);
  CHECK(project.error(model + "  - {name: a, target: /w, source: {uri: x, include: ['!*.bin']}}\n")
            .find("invalid weights[0].source.include[0] \"!*.bin\": negation (\"!\") is not supported") !=
        std::string::npos);
  CHECK(project.error(model + "  - {name: a, target: /w, source: {uri: x, exclude: ['a\\\\b']}}\n")
            .find("backslashes are not allowed") != std::string::npos);
  CHECK(project.error(model + "  - {name: a, target: /w, source: {uri: x, include: ['']}}\n")
            .find("invalid weights[0].source.include[0] \"\": must not be empty") != std::string::npos);
}

TEST_CASE("too deep or alias-bombed documents are refused, not expanded") {
  TempProject project;
  std::string deep = "a: " + std::string(200, '[') + std::string(200, ']') + "\n";
  CHECK(project.error(deep).find("nests too deeply or expands to too many values") != std::string::npos);
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char name = 'b'; name <= 'k'; ++name) {
    bomb += std::string(1, name) + ": &" + name + " [*" + static_cast<char>(name - 1) + ", *" +
            static_cast<char>(name - 1) + ", *" + static_cast<char>(name - 1) + ", *" + static_cast<char>(name - 1) +
            "]\n";
  }
  CHECK(project.error(bomb).find("too many values") != std::string::npos);
}

TEST_CASE("a very long environment value is checked without overflowing the stack") {
  TempProject project;
  auto config = project.load(kBuild + "environment:\n  - A=" + std::string(1000000, 'x') + "\n").config;
  REQUIRE(config.environment.size() == 1);
  CHECK(config.environment[0].second.size() == 1000000);
}
