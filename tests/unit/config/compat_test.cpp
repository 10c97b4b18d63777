// The compatibility matrix, CUDA completion, base-image choice and requirements rewriting.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "builder/config/compat.hpp"

namespace cfg = cog::builder::config;

namespace {

const cfg::CompatMatrix& matrix() { return cfg::CompatMatrix::builtin(); }

// A requirement line as the config loader would classify it.
cfg::Requirement package(const std::string& name, const std::string& specifier = {}) {
  cfg::Requirement requirement;
  requirement.kind = cfg::Requirement::Kind::Package;
  requirement.name = name;
  requirement.specifier = specifier;
  requirement.text = name + specifier;
  requirement.where = {"requirements.txt", 1, 0};
  return requirement;
}

cfg::Requirement option(cfg::Requirement::Kind kind, const std::string& flag, const std::string& url) {
  cfg::Requirement requirement;
  requirement.kind = kind;
  requirement.value = url;
  requirement.text = flag + " " + url;
  return requirement;
}

cfg::Config gpu_config(std::vector<cfg::Requirement> requirements = {}) {
  cfg::Config config;
  config.build.gpu = true;
  config.build.python_version = "3.11";
  config.build.python_version_as_written = "3.11";
  config.requirements = std::move(requirements);
  return config;
}

cfg::Config cpu_config(std::vector<cfg::Requirement> requirements = {}) {
  auto config = gpu_config(std::move(requirements));
  config.build.gpu = false;
  return config;
}

std::string completion_error(cfg::Config config) {
  try {
    cfg::complete_cuda(config, matrix());
  } catch (const cog::Error& error) {
    CHECK(error.kind() == cog::ErrorKind::Compatibility);
    return error.describe();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the embedded matrix has Cog's rows") {
  CHECK(matrix().torch.size() > 80);
  CHECK(matrix().cuda.size() > 40);
  CHECK(matrix().tensorflow.size() >= 17);
  // CUDA 10.2 torch builds have no CUDA image, so they are dropped at load like Cog drops them.
  for (const auto& row : matrix().torch) CHECK(row.cuda.value_or("11") != "10.2");
  const auto* tf = cfg::find_tensorflow(matrix(), "2.11.0");
  REQUIRE(tf != nullptr);
  CHECK(tf->cuda == "11.2");
  CHECK(tf->cudnn == "8");  // "8.1" truncated to its major
}

TEST_CASE("version helpers") {
  CHECK(cfg::strip_local_version("2.3.1+cu121") == "2.3.1");
  CHECK(cfg::major_minor("11.8.0") == "11.8");
  CHECK(cfg::compare_versions("12.10", "12.9") > 0);
  CHECK(cfg::compare_versions("2.0.1+cu118", "2.0.1") == 0);
  CHECK(cfg::version_matches("2.3", "2.3.1+cu121"));
  CHECK_FALSE(cfg::version_matches("2.3", "2.30.0"));
  CHECK_FALSE(cfg::version_matches("2.3.1+cu118", "2.3.1+cu121"));
}

TEST_CASE("lookups") {
  CHECK(cfg::cudnns_for_cuda(matrix(), "11.8") == std::vector<std::string>{"8"});
  CHECK(cfg::cudnns_for_cuda(matrix(), "12.4") == std::vector<std::string>{"9"});
  CHECK(cfg::cudnns_for_cuda(matrix(), "10.2").empty());
  CHECK(cfg::cudas_for_torch(matrix(), "2.0.1") == std::vector<std::string>{"11.8", "11.7"});
  CHECK(cfg::cudas_for_torch(matrix(), "2.7.1") == std::vector<std::string>{"12.8", "12.6", "11.8"});
  CHECK(cfg::cudas_for_torch(matrix(), "2.0.1+cu117") == std::vector<std::string>{"11.7"});
  CHECK(cfg::torch_version_known(matrix(), "1.11.0"));
  CHECK_FALSE(cfg::torch_version_known(matrix(), "0.4.1"));
}

TEST_CASE("pinned versions come only from exact pins") {
  auto config =
      cpu_config({package("torch", "==2.3.1"), package("numpy", ">=1.0"), package("tensorflow", "==2.11.0,!=2.11.1")});
  CHECK(cfg::pinned_package_version(config, "torch") == "2.3.1");
  CHECK_FALSE(cfg::pinned_package_version(config, "numpy"));
  CHECK_FALSE(cfg::pinned_package_version(config, "tensorflow"));
  CHECK(cfg::has_package(config, "numpy"));
}

TEST_CASE("completion: CPU configs are left alone") {
  auto config = cpu_config({package("torch", "==2.3.1")});
  CHECK(cfg::complete_cuda(config, matrix()).empty());
  CHECK(config.build.cuda.empty());
  CHECK(config.build.cudnn.empty());
}

TEST_CASE("completion: Cog's default CUDA 11.8 and its newest cuDNN") {
  auto config = gpu_config();
  CHECK(cfg::complete_cuda(config, matrix()).empty());
  CHECK(config.build.cuda == "11.8");
  CHECK(config.build.cudnn == "8");
}

TEST_CASE("completion: torch pins choose the newest CUDA built for them") {
  auto config = gpu_config({package("torch", "==2.3.1")});
  CHECK(cfg::complete_cuda(config, matrix()).empty());
  CHECK(config.build.cuda == "12.1");
  CHECK(config.build.cudnn == "8");

  auto local = gpu_config({package("torch", "==2.0.1+cu117")});
  cfg::complete_cuda(local, matrix());
  CHECK(local.build.cuda == "11.7");

  auto newest = gpu_config({package("torch", "==2.9.1")});
  cfg::complete_cuda(newest, matrix());
  CHECK(newest.build.cuda == "13.0");
  CHECK(newest.build.cudnn == "9");
}

TEST_CASE("completion: an explicit CUDA the torch build does not know is a warning") {
  auto config = gpu_config({package("torch", "==2.0.1")});
  config.build.cuda = "12.1";
  auto warnings = cfg::complete_cuda(config, matrix());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].what ==
        "Cog doesn't know if CUDA 12.1 is compatible with PyTorch 2.0.1. This might cause CUDA "
        "problems.");
  CHECK(warnings[0].fix == "Try 11.8 instead?");
  CHECK(warnings[0].where == "requirements.txt:1");  // the pin, not cog.yaml
  CHECK(config.build.cuda == "12.1");
  CHECK(config.build.cudnn == "8");
}

TEST_CASE("completion: TensorFlow decides CUDA and cuDNN") {
  auto config = gpu_config({package("tensorflow", "==2.11.0")});
  CHECK(cfg::complete_cuda(config, matrix()).empty());
  CHECK(config.build.cuda == "11.2");
  CHECK(config.build.cudnn == "8");

  auto other_cuda = gpu_config({package("tensorflow", "==2.11.0")});
  other_cuda.build.cuda = "11.8";
  auto warnings = cfg::complete_cuda(other_cuda, matrix());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].what.find("Cog doesn't know if CUDA 11.8 is compatible with Tensorflow 2.11.0") == 0);
  CHECK(other_cuda.build.cuda == "11.8");
}

TEST_CASE("completion: impossible combinations are errors") {
  auto pair = gpu_config();
  pair.build.cuda = "11.8";
  pair.build.cudnn = "9";
  CHECK(completion_error(pair) ==
        "cog.yaml: CUDA 11.8 is incompatible with CuDNN 9: compatible CuDNN versions are: 8 — set "
        "build.cudnn to one of them, or remove it to pick the newest");

  auto unknown_cuda = gpu_config();
  unknown_cuda.build.cuda = "10.2";
  CHECK(completion_error(unknown_cuda).find("CUDA 10.2 is not supported by Cog") != std::string::npos);

  auto tf_cudnn = gpu_config({package("tensorflow", "==2.15.0")});
  tf_cudnn.build.cudnn = "9";
  CHECK(completion_error(tf_cudnn) ==
        "requirements.txt:1: The specified cuDNN version 9 is not compatible with "
        "tensorflow==2.15.0 — "
        "Compatible cuDNN version is: 8");

  auto unknown_torch = gpu_config({package("torch", "==0.4.1")});
  CHECK(completion_error(unknown_torch)
            .find("cog doesn't know what CUDA version is compatible with torch==0.4.1. You might "
                  "need to upgrade Cog") != std::string::npos);

  auto unpinned = gpu_config({package("torch", ">=2")});
  CHECK(completion_error(unpinned).find("torch version must be specified when using CUDA") != std::string::npos);

  auto cpu_only_torch = gpu_config({package("torch", "==2.3.1+cpu")});
  CHECK(completion_error(cpu_only_torch)
            .find("Cog couldn't automatically determine a CUDA version for torch==2.3.1+cpu") != std::string::npos);

  auto unknown_tf = gpu_config({package("tensorflow", "==1.15.0")});
  CHECK(completion_error(unknown_tf).find("tensorflow==1.15.0") != std::string::npos);
}

TEST_CASE("completion: an explicit CUDA with an unpinned torch is kept") {
  auto config = gpu_config({package("torch")});
  config.build.cuda = "12.4";
  CHECK(cfg::complete_cuda(config, matrix()).empty());
  CHECK(config.build.cudnn == "9");
}

TEST_CASE("cog-base tags") {
  CHECK(cfg::cog_base_image_tag("12.1", "3.11", "2.1.0") == "cuda12.1-python3.11-torch2.1.0");
  CHECK(cfg::cog_base_image_tag("11.8.0", "3.12", "") == "cuda11.8-python3.12");
  CHECK(cfg::cog_base_image_tag("", "3.12", "2.3.1+cpu") == "python3.12-torch2.3.1");
  CHECK(cfg::cog_base_image_tag("", "", "") == "latest");
  CHECK(cfg::normalise_torch_for_cog_base(matrix(), "2.3") == "2.3.1");
  CHECK(cfg::cog_base_image_exists(matrix(), "12.1", "3.11", "2.1.0"));
  CHECK(cfg::cog_base_image_exists(matrix(), "", "3.12", "2.3.1"));
  CHECK(cfg::cog_base_image_exists(matrix(), "11.8", "3.12", ""));
  CHECK(cfg::cog_base_image_exists(matrix(), "", "3.13", ""));
  CHECK_FALSE(cfg::cog_base_image_exists(matrix(), "", "3.9", ""));            // Python < 3.10
  CHECK_FALSE(cfg::cog_base_image_exists(matrix(), "12.1", "3.12", "2.0.1"));  // no such build
  CHECK_FALSE(cfg::cog_base_image_exists(matrix(), "", "3.12", "1.13.0"));     // torch < 1.13.1
}

TEST_CASE("nvidia/cuda tags: newest patch, then newest Ubuntu") {
  CHECK(cfg::cuda_base_image_tag(matrix(), "11.8", "8") == "11.8.0-cudnn8-devel-ubuntu22.04");
  CHECK(cfg::cuda_base_image_tag(matrix(), "12.6", "9") == "12.6.3-cudnn-devel-ubuntu24.04");
  CHECK(cfg::cuda_base_image_tag(matrix(), "12.1", "8") == "12.1.1-cudnn8-devel-ubuntu22.04");
  CHECK_THROWS_AS(cfg::cuda_base_image_tag(matrix(), "12.4", "8"), cog::Error);
}

TEST_CASE("base image choice follows Cog's order of preference") {
  auto config = gpu_config({package("torch", "==2.1.0")});
  cfg::complete_cuda(config, matrix());
  auto cog_base = cfg::choose_base_image(config, matrix(), {});
  CHECK(cog_base.kind == cfg::BaseImageKind::CogBase);
  CHECK(cog_base.reference == "r8.im/cog-base:cuda12.1-python3.11-torch2.1.0");

  cfg::BaseImageRequest no_cog_base;
  no_cog_base.use_cog_base_image = false;
  auto cuda = cfg::choose_base_image(config, matrix(), no_cog_base);
  CHECK(cuda.reference == "nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04");

  no_cog_base.use_cuda_base_image = "false";
  CHECK(cfg::choose_base_image(config, matrix(), no_cog_base).reference == "python:3.11-slim");

  auto old_python = cpu_config();
  old_python.build.python_version = old_python.build.python_version_as_written = "3.9";
  auto fallback = cfg::choose_base_image(old_python, matrix(), {});
  CHECK(fallback.reference == "python:3.9-slim");
  REQUIRE(fallback.warnings.size() == 1);
  CHECK(fallback.warnings[0].what ==
        "Could not find a suitable base image, continuing without base image support "
        "(unsupported base image configuration: CUDA:  / Python: 3.9 / Torch: )");

  cfg::BaseImageRequest insist;
  insist.use_cog_base_image = true;
  CHECK_THROWS_WITH_AS(cfg::choose_base_image(old_python, matrix(), insist),
                       doctest::Contains("unsupported base image configuration"), cog::Error);

  auto patch = cpu_config();
  patch.build.python_version_as_written = "3.11.4";
  auto stripped = cfg::choose_base_image(patch, matrix(), {});
  CHECK(stripped.reference == "r8.im/cog-base:python3.11");
  REQUIRE(stripped.warnings.size() == 1);
  CHECK(stripped.warnings[0].what == "Stripping patch version from Python version 3.11.4 to 3.11");
}

TEST_CASE("requirements: CPU torch goes to the CPU index") {
  auto config = cpu_config({package("torch", "==2.3.0"), package("pandas", "==1.2.0.12")});
  CHECK(cfg::generate_requirements(config, matrix()).text ==
        "--extra-index-url https://download.pytorch.org/whl/cpu/\ntorch==2.3.0\npandas==1.2.0.12\n");

  auto legacy = cpu_config({package("torch", "==1.12.1"), package("torchvision", "==0.13.1")});
  CHECK(cfg::generate_requirements(legacy, matrix()).text ==
        "--extra-index-url https://download.pytorch.org/whl/cpu/\ntorch==1.12.1+cpu\n"
        "torchvision==0.13.1+cpu\n");
}

TEST_CASE("requirements: GPU torch takes the highest CUDA not above the image's") {
  auto config = gpu_config({package("torch", "==2.0.1"), package("torchvision", "==0.15.2")});
  config.build.cuda = "11.8";
  CHECK(cfg::generate_requirements(config, matrix()).text ==
        "--extra-index-url https://download.pytorch.org/whl/cu118/\ntorch==2.0.1\n"
        "torchvision==0.15.2\n");

  auto older_cuda = gpu_config({package("torch", "==2.4.1")});
  older_cuda.build.cuda = "12.3";  // no 12.3 build: the 12.1 one is the best that still runs
  CHECK(cfg::generate_requirements(older_cuda, matrix()).text ==
        "--extra-index-url https://download.pytorch.org/whl/cu121/\ntorch==2.4.1\n");

  auto short_pin = gpu_config({package("torch", "==2.3")});
  short_pin.build.cuda = "12.1";
  CHECK(cfg::generate_requirements(short_pin, matrix()).text ==
        "--extra-index-url https://download.pytorch.org/whl/cu121/\ntorch==2.3.1\n");
}

TEST_CASE("requirements: TensorFlow on GPU uses the GPU package") {
  auto config = gpu_config({package("tensorflow", "==2.11.0")});
  config.build.cuda = "11.2";
  CHECK(cfg::generate_requirements(config, matrix()).text == "tensorflow==2.11.0\n");
}

TEST_CASE("requirements: index options come first, deduplicated, in order") {
  using Kind = cfg::Requirement::Kind;
  auto config = cpu_config(
      {package("numpy", "==1.26.4"), option(Kind::ExtraIndexUrl, "--extra-index-url", "https://a.example/"),
       package("torch", "==2.3.0"), option(Kind::FindLinks, "--find-links", "https://f.example/"),
       option(Kind::ExtraIndexUrl, "--extra-index-url", "https://a.example/"), option(Kind::Option, "--pre", "")});
  config.requirements.back().text = "--pre";
  CHECK(cfg::generate_requirements(config, matrix()).text ==
        "--find-links https://f.example/\n"
        "--extra-index-url https://a.example/\n"
        "--extra-index-url https://download.pytorch.org/whl/cpu/\n"
        "numpy==1.26.4\ntorch==2.3.0\n--pre\n");
}

TEST_CASE("requirements: cog and coglet are removed with a warning") {
  auto config = cpu_config({package("cog", "==0.9.0"), package("coglet"), package("requests")});
  auto generated = cfg::generate_requirements(config, matrix());
  CHECK(generated.text == "requests\n");
  REQUIRE(generated.warnings.size() == 2);
  CHECK(generated.warnings[0].where == "requirements.txt:1");
  CHECK(generated.warnings[0].what.find("removed \"cog==0.9.0\"") == 0);
}

TEST_CASE("requirements: included packages are appended when missing") {
  auto config = cpu_config({package("torch", "==2.3.1")});
  auto generated = cfg::generate_requirements(config, matrix(), {"torch==2.3.1", "torchvision==0.18.1"});
  CHECK(generated.text ==
        "--extra-index-url https://download.pytorch.org/whl/cpu/\ntorch==2.3.1\ntorchvision==0.18.1\n");
  CHECK(cfg::generate_requirements(cpu_config(), matrix()).text.empty());
}

TEST_CASE("the embedded matrix is the one in schemas/compat") {
  auto read = [](const char* name) {
    std::ifstream file(std::string(COG_SOURCE_DIR) + "/schemas/compat/" + name, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  };
  auto from_files = cfg::CompatMatrix::from_json(read("torch.json"), read("cuda.json"), read("tensorflow.json"));
  CHECK(from_files.torch.size() == matrix().torch.size());
  CHECK(from_files.cuda.size() == matrix().cuda.size());
  CHECK(from_files.tensorflow.size() == matrix().tensorflow.size());
  CHECK_THROWS_AS(cfg::CompatMatrix::from_json("{}", "[]", "[]"), cog::Error);
  CHECK_THROWS_AS(cfg::CompatMatrix::from_json("[", "[]", "[]"), cog::Error);
}

TEST_CASE("every row is internally consistent") {
  for (const auto& row : matrix().torch) {
    CAPTURE(row.torch);
    CHECK_FALSE(row.torchvision.empty());
    CHECK_FALSE(row.torchaudio.empty());
    CHECK_FALSE(row.pythons.empty());
    // The local version, the CUDA and the index all name the same build.
    std::string variant =
        row.cuda ? "cu" + row.cuda->substr(0, row.cuda->find('.')) + row.cuda->substr(row.cuda->find('.') + 1) : "cpu";
    CHECK(row.extra_index_url == "https://download.pytorch.org/whl/" + variant + "/");
    if (row.cuda) CHECK(row.torch.ends_with("+" + variant));
  }
  for (const auto& row : matrix().cuda) {
    CAPTURE(row.tag);
    CHECK(row.tag.starts_with(row.cuda + "-cudnn"));
    CHECK(row.tag.ends_with("-devel-ubuntu" + row.ubuntu));
  }
  for (const auto& row : matrix().tensorflow) {
    CAPTURE(row.tensorflow);
    CHECK(row.gpu_package == "tensorflow==" + row.tensorflow);
    CHECK_FALSE(cfg::cudnns_for_cuda(matrix(), row.cuda).empty());
  }
}

TEST_CASE("requirements: local artifacts are installed from their in-image copy") {
  cfg::Requirement wheel;
  wheel.kind = cfg::Requirement::Kind::LocalArtifact;
  wheel.text = "./dist/pkg-0.1-py3-none-any.whl";
  wheel.value = "dist/pkg-0.1-py3-none-any.whl";
  auto generated = cfg::generate_requirements(cpu_config({wheel, package("requests")}), matrix());
  CHECK(generated.text == "/tmp/local_package_artifacts/dist/pkg-0.1-py3-none-any.whl\nrequests\n");
  CHECK(generated.local_artifacts == std::vector<std::string>{"dist/pkg-0.1-py3-none-any.whl"});
}
