// The CUDA / cuDNN wheels a gpu: true image gets, per (CUDA, cuDNN) from the compatibility
// matrix, and the env and labels that stand in for an nvidia/cuda base.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "builder/pipeline/cuda_layer.hpp"
#include "builder/config/compat.hpp"
#include "builder/config/requirements.hpp"

using namespace cog::builder::pipeline;
namespace config = cog::builder::config;

namespace {

std::map<std::string, std::string> pins(const CudaWheelSet& set) {
  std::map<std::string, std::string> result;
  for (const auto& wheel : set.wheels) result[wheel.package] = wheel.version;
  return result;
}

config::Config gpu_config(const std::string& cuda, const std::string& cudnn,
                          const std::vector<std::string>& requirements = {}) {
  config::Config result;
  result.build.gpu = true;
  result.build.cuda = cuda;
  result.build.cudnn = cudnn;
  result.build.python_version = "3.11";
  std::vector<config::RequirementLine> lines;
  for (const auto& text : requirements) lines.push_back({text, {"requirements.txt", 1, 0}});
  std::vector<cog::Error> errors;
  result.requirements = config::classify_requirement_lines(lines, "/tmp", errors);
  REQUIRE(errors.empty());
  return result;
}

std::map<std::string, std::string> env_of(const CudaRuntimeLayer& layer) {
  return {layer.env.begin(), layer.env.end()};
}

}  // namespace

TEST_CASE("CUDA 12.4 with cuDNN 9: the wheels of the CUDA 12.4.1 release, pinned") {
  const auto set = cuda_wheels_for("12.4", "9");
  CHECK(set.cuda_version == "12.4.1");
  CHECK(set.cudnn_version == "9.28.0.42");
  const std::map<std::string, std::string> expected = {
      {"nvidia-cuda-runtime-cu12", "12.4.127"}, {"nvidia-cuda-nvrtc-cu12", "12.4.127"},
      {"nvidia-nvjitlink-cu12", "12.4.127"},    {"nvidia-cublas-cu12", "12.4.5.8"},
      {"nvidia-cufft-cu12", "11.2.1.3"},        {"nvidia-curand-cu12", "10.3.5.147"},
      {"nvidia-cusparse-cu12", "12.3.1.170"},   {"nvidia-cusolver-cu12", "11.6.1.9"},
      {"nvidia-nccl-cu12", "2.21.5"},           {"nvidia-cudnn-cu12", "9.28.0.42"}};
  CHECK(pins(set) == expected);
  // Dependencies before dependents: runtime first, cuDNN (needs cuBLAS) last.
  CHECK(set.wheels.front().package == "nvidia-cuda-runtime-cu12");
  CHECK(set.wheels.back().package == "nvidia-cudnn-cu12");
  CHECK(set.wheels.front().lib_dir == "nvidia/cuda_runtime/lib");
  CHECK(set.wheels.back().lib_dir == "nvidia/cudnn/lib");
  // A full version names its minor.
  CHECK(pins(cuda_wheels_for("12.4.1", "9")) == expected);
}

TEST_CASE("CUDA 11.8 (Cog's default) with cuDNN 8: cu11 wheels, no nvJitLink") {
  const auto set = cuda_wheels_for("11.8", "8");
  CHECK(set.cuda_version == "11.8.0");
  const auto wheels = pins(set);
  CHECK(wheels.at("nvidia-cuda-runtime-cu11") == "11.8.89");
  CHECK(wheels.at("nvidia-cublas-cu11") == "11.11.3.6");
  CHECK(wheels.at("nvidia-cudnn-cu11") == "8.9.6.50");
  CHECK(wheels.size() == 9);
  CHECK(wheels.count("nvidia-nvjitlink-cu11") == 0);
}

TEST_CASE("CUDA 12 with cuDNN 8 and CUDA 13: their own cuDNN, CUDA 13's suffix-less names") {
  CHECK(pins(cuda_wheels_for("12.1", "8")).at("nvidia-cudnn-cu12") == "8.9.7.29");
  const auto set = cuda_wheels_for("13.0", "9");
  CHECK(set.cuda_version == "13.0.2");
  const auto wheels = pins(set);
  CHECK(wheels.at("nvidia-cuda-runtime") == "13.0.96");
  CHECK(wheels.at("nvidia-cublas") == "13.1.0.3");
  CHECK(wheels.at("nvidia-nccl-cu13") == "2.28.3");
  CHECK(wheels.at("nvidia-cudnn-cu13") == "9.28.1.4");
  for (const auto& wheel : set.wheels) {
    const std::string expected = wheel.package == "nvidia-nccl-cu13"    ? "nvidia/nccl/lib"
                                 : wheel.package == "nvidia-cudnn-cu13" ? "nvidia/cudnn/lib"
                                                                        : "nvidia/cu13/lib";
    CHECK_MESSAGE(wheel.lib_dir == expected, wheel.package);
  }
}

TEST_CASE("every CUDA / cuDNN pair of the compatibility matrix that PyPI has wheels for") {
  const auto& matrix = config::CompatMatrix::builtin();
  const auto covered = cuda_wheel_versions();
  std::map<std::string, std::string> newest_patch;  // minor -> newest full version in the matrix
  for (const auto& row : matrix.cuda) {
    const auto minor = config::major_minor(row.cuda);
    if (newest_patch[minor].empty() || config::compare_versions(row.cuda, newest_patch[minor]) > 0) {
      newest_patch[minor] = row.cuda;
    }
  }
  for (const auto& [minor, full] : newest_patch) {
    const bool old = config::compare_versions(minor, "11.7") < 0;
    CHECK_MESSAGE(old != (std::find(covered.begin(), covered.end(), minor) != covered.end()), minor);
    if (old) continue;
    for (const auto& cudnn : config::cudnns_for_cuda(matrix, minor)) {
      const auto set = cuda_wheels_for(minor, cudnn);
      // The release Cog's nvidia/cuda base would be.
      CHECK_MESSAGE(set.cuda_version == full, minor);
      CHECK(set.cudnn_version.substr(0, set.cudnn_version.find('.')) == cudnn);
    }
  }
}

TEST_CASE("CUDA releases and cuDNN majors PyPI has no wheels for are clear errors") {
  try {
    cuda_wheels_for("11.2", "8");
    FAIL("expected an error");
  } catch (const cog::Error& error) {
    CHECK(error.kind() == cog::ErrorKind::Compatibility);
    CHECK(error.where() == "build.cuda");
    CHECK(error.message().find("11.2") != std::string::npos);
    CHECK(error.fix().find("11.8") != std::string::npos);
  }
  try {
    cuda_wheels_for("13.0", "8");
    FAIL("expected an error");
  } catch (const cog::Error& error) {
    CHECK(error.where() == "build.cudnn");
    CHECK(error.fix().find("set cudnn to 9") != std::string::npos);
  }
}

TEST_CASE("a gpu: true config completed by the matrix gets a layer, env and labels") {
  auto completed = gpu_config("", "", {"numpy==2.1.0"});
  for (const auto& warning : config::complete_cuda(completed, config::CompatMatrix::builtin())) (void)warning;
  CHECK(completed.build.cuda == "11.8");
  const auto layer = plan_cuda_runtime(completed);
  REQUIRE(layer);
  CHECK(layer->note.empty());
  CHECK(layer->description == "CUDA 11.8.0 / cuDNN 8.9.6.50 runtime (NVIDIA wheels from PyPI)");
  CHECK(layer->requirements.find("nvidia-cuda-runtime-cu11==11.8.89\n") == 0);
  CHECK(layer->requirements.find("nvidia-cudnn-cu11==8.9.6.50\n") != std::string::npos);
  const auto env = env_of(*layer);
  CHECK(env.at("NVIDIA_VISIBLE_DEVICES") == "all");
  CHECK(env.at("NVIDIA_DRIVER_CAPABILITIES") == "all");
  CHECK(env.at("CUDA_VERSION") == "11.8.0");
  CHECK(env.at("NVIDIA_REQUIRE_CUDA") == "cuda>=11.8");
  CHECK(env.at("NV_CUDNN_VERSION") == "8.9.6.50");
  const auto& path = env.at("LD_LIBRARY_PATH");
  CHECK(path.find("/usr/local/lib/python3.11/dist-packages/nvidia/cuda_runtime/lib:") == 0);
  CHECK(path.find("/usr/local/lib/python3.11/dist-packages/nvidia/cudnn/lib") != std::string::npos);
  CHECK(path.find("nvjitlink") == std::string::npos);
  CHECK(path.ends_with(":/usr/local/nvidia/lib:/usr/local/nvidia/lib64"));
  CHECK(layer->labels.at("com.nvidia.cudnn.version") == "8.9.6.50");

  CHECK_FALSE(plan_cuda_runtime(config::Config{}));  // CPU: nothing
}

TEST_CASE("torch brings its own CUDA wheels: no second copy, same library directories") {
  const auto layer = plan_cuda_runtime(gpu_config("12.4", "9", {"torch==2.5.1", "numpy"}));
  REQUIRE(layer);
  CHECK(layer->requirements.empty());
  CHECK(layer->wheels.empty());
  CHECK(layer->note.find("torch==2.5.1") != std::string::npos);
  const auto env = env_of(*layer);
  CHECK(env.at("CUDA_VERSION") == "12.4");
  CHECK(env.count("NV_CUDNN_VERSION") == 0);
  CHECK(env.at("LD_LIBRARY_PATH").find("/usr/local/lib/python3.11/dist-packages/nvidia/cudnn/lib") !=
        std::string::npos);
  CHECK(layer->labels.empty());

  CHECK(plan_cuda_runtime(gpu_config("12.4", "9", {"tensorflow[and-cuda]==2.18.0"}))->requirements.empty());
  CHECK(plan_cuda_runtime(gpu_config("12.4", "9", {"jax[cuda12]"}))->requirements.empty());
  // Without an extra, TensorFlow uses the libraries it finds: the layer provides them.
  CHECK_FALSE(plan_cuda_runtime(gpu_config("12.4", "9", {"tensorflow==2.18.0"}))->requirements.empty());
}

TEST_CASE("an nvidia-* wheel the user pins is theirs, the layer installs the rest") {
  const auto layer = plan_cuda_runtime(gpu_config("12.4", "9", {"nvidia-cudnn-cu12==9.1.0.70"}));
  REQUIRE(layer);
  CHECK(layer->requirements.find("nvidia-cudnn-cu12") == std::string::npos);
  CHECK(layer->requirements.find("nvidia-cublas-cu12==12.4.5.8") != std::string::npos);
  CHECK(layer->note.find("nvidia-cudnn-cu12") != std::string::npos);
}

TEST_CASE("CUDA 13 library directories: the shared cu13 one, then NCCL and cuDNN") {
  const auto dirs = cuda_library_dirs("13.1", "3.13");
  const std::vector<std::string> expected = {"/usr/local/lib/python3.13/dist-packages/nvidia/cu13/lib",
                                             "/usr/local/lib/python3.13/dist-packages/nvidia/nccl/lib",
                                             "/usr/local/lib/python3.13/dist-packages/nvidia/cudnn/lib"};
  CHECK(dirs == expected);
}

TEST_CASE("the layer's step: pip without dependencies, then the loader's configuration") {
  const auto step = cuda_runtime_step("/etc/passwd", {"/tmp/cog-test-caches"}, 0);
  REQUIRE(step.argv.size() == 3);
  CHECK(step.argv[0] == "/bin/sh");
  const auto& script = step.argv[2];
  CHECK(script.find("'install' --no-deps") != std::string::npos);
  CHECK(script.find("'/tmp/cog-requirements.txt'") != std::string::npos);
  CHECK(script.find("nvidia.__path__") != std::string::npos);
  CHECK(script.find("> /etc/ld.so.conf.d/cog-cuda.conf") != std::string::npos);
  CHECK(script.find("ldconfig") != std::string::npos);
  CHECK(std::any_of(step.binds.begin(), step.binds.end(),
                    [](const auto& bind) { return bind.target == "/tmp/cog-requirements.txt"; }));
}

TEST_CASE("$LD_LIBRARY_PATH in an ENV value, as Docker expands it, without empty entries") {
  const std::string preamble =
      "$LD_LIBRARY_PATH:/usr/lib/x86_64-linux-gnu:/usr/local/nvidia/lib64:/usr/local/nvidia/bin";
  // Unset before (a CPU image): no leading ':' (the working directory, to the loader).
  CHECK(expand_library_path(preamble, "") == "/usr/lib/x86_64-linux-gnu:/usr/local/nvidia/lib64:/usr/local/nvidia/bin");
  CHECK(expand_library_path(preamble, "/w/lib:/usr/local/nvidia/lib:/usr/local/nvidia/lib64") ==
        "/w/lib:/usr/local/nvidia/lib:/usr/local/nvidia/lib64:/usr/lib/x86_64-linux-gnu:/usr/local/nvidia/bin");
  CHECK(expand_library_path("${LD_LIBRARY_PATH}::/x", "/a") == "/a:/x");
  CHECK(expand_library_path("/only", "/a") == "/only");
}
