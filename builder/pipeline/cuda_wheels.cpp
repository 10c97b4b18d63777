// Which of NVIDIA's wheels on PyPI make up the CUDA / cuDNN runtime of a CUDA release.
//
// Derived from PyPI's release history (https://pypi.org/pypi/<name>/json, read 2026-11-23):
// NVIDIA uploads the wheels of one toolkit release together, so each row is one upload group, the
// one of the CUDA release the compatibility matrix names for that minor (schemas/compat/cuda.json:
// its newest patch, which is what Cog's nvidia/cuda base would be). Components a patch release
// did not touch keep the version of the release before it (e.g. curand in 12.9.1). NCCL is not
// part of the toolkit: a row takes the newest NCCL for that CUDA major uploaded on or before the
// row's wheels, so it was built with that CUDA or an older one. cuDNN: the newest release of
// each cuDNN major for each CUDA major (cuDNN supports every minor of its CUDA major).
// Every version here has a manylinux x86_64 wheel; PyPI has no runtime wheels before CUDA 11.7.
#include <algorithm>
#include <array>

#include "builder/pipeline/cuda_layer.hpp"
#include "support/error.hpp"

namespace cog::builder::pipeline {
namespace {

// Component names, in install order: what others depend on first (cuBLAS needs NVRTC, cuFFT and
// cuSPARSE need nvJitLink, cuSOLVER needs cuBLAS and cuSPARSE, cuDNN needs cuBLAS).
constexpr std::array<std::string_view, 9> kComponents = {"cuda-runtime", "cuda-nvrtc", "nvjitlink", "cublas", "cufft",
                                                         "curand",       "cusparse",   "cusolver",  "nccl"};

struct Release {
  std::string_view minor;                    // what build.cuda holds
  std::string_view toolkit;                  // the release the wheels come from
  std::array<std::string_view, 9> versions;  // by kComponents; empty: no such wheel
};

// clang-format off
constexpr Release kReleases[] = {
    //        runtime     nvrtc       nvjitlink   cublas         cufft         curand         cusparse       cusolver       nccl
    {"11.7", "11.7.1", {"11.7.99",  "11.7.99",  "",         "11.10.3.66", "10.7.2.91",  "10.2.10.91",  "11.7.4.91",   "11.4.0.1",    "2.13.4"}},
    {"11.8", "11.8.0", {"11.8.89",  "11.8.89",  "",         "11.11.3.6",  "10.9.0.58",  "10.3.0.86",   "11.7.5.86",   "11.4.1.48",   "2.14.3"}},
    {"12.0", "12.0.1", {"12.0.146", "12.0.140", "12.0.140", "12.0.2.224", "11.0.1.95",  "10.3.1.124",  "12.0.1.140",  "11.4.3.1",    "2.16.2"}},
    {"12.1", "12.1.1", {"12.1.105", "12.1.105", "12.1.105", "12.1.3.1",   "11.0.2.54",  "10.3.2.106",  "12.1.0.106",  "11.4.5.107",  "2.17.1"}},
    {"12.2", "12.2.2", {"12.2.140", "12.2.140", "12.2.140", "12.2.5.6",   "11.0.8.103", "10.3.3.141",  "12.1.2.141",  "11.5.2.141",  "2.18.3"}},
    {"12.3", "12.3.2", {"12.3.101", "12.3.107", "12.3.101", "12.3.4.1",   "11.0.12.1",  "10.3.4.107",  "12.2.0.103",  "11.5.4.101",  "2.19.3"}},
    {"12.4", "12.4.1", {"12.4.127", "12.4.127", "12.4.127", "12.4.5.8",   "11.2.1.3",   "10.3.5.147",  "12.3.1.170",  "11.6.1.9",    "2.21.5"}},
    {"12.5", "12.5.1", {"12.5.82",  "12.5.82",  "12.5.82",  "12.5.3.2",   "11.2.3.61",  "10.3.6.82",   "12.5.1.3",    "11.6.3.83",   "2.22.3"}},
    {"12.6", "12.6.3", {"12.6.77",  "12.6.85",  "12.6.85",  "12.6.4.1",   "11.3.0.4",   "10.3.7.77",   "12.5.4.2",    "11.7.1.2",    "2.23.4"}},
    {"12.8", "12.8.1", {"12.8.90",  "12.8.93",  "12.8.93",  "12.8.4.1",   "11.3.3.83",  "10.3.9.90",   "12.5.8.93",   "11.7.3.90",   "2.25.1"}},
    {"12.9", "12.9.1", {"12.9.79",  "12.9.86",  "12.9.86",  "12.9.1.4",   "11.4.1.4",   "10.3.10.19",  "12.5.10.65",  "11.7.5.82",   "2.27.3"}},
    {"13.0", "13.0.2", {"13.0.96",  "13.0.88",  "13.0.88",  "13.1.0.3",   "12.0.0.61",  "10.4.0.35",   "12.6.3.3",    "12.0.4.66",   "2.28.3"}},
    {"13.1", "13.1.0", {"13.1.80",  "13.1.80",  "13.1.80",  "13.2.0.9",   "12.1.0.31",  "10.4.1.34",   "12.7.2.19",   "12.0.7.41",   "2.28.9"}},
    {"13.2", "13.2.1", {"13.2.75",  "13.2.78",  "13.2.78",  "13.4.0.1",   "12.2.0.46",  "10.4.2.55",   "12.7.10.1",   "12.2.0.1",    "2.29.7"}},
};

struct Cudnn {
  std::string_view cuda_major;
  std::string_view cudnn_major;
  std::string_view version;
};

constexpr Cudnn kCudnns[] = {
    {"11", "8", "8.9.6.50"},
    {"12", "8", "8.9.7.29"},
    {"12", "9", "9.28.0.42"},
    {"13", "9", "9.28.1.4"},
};
// clang-format on

std::string major_of(std::string_view version) { return std::string(version.substr(0, version.find('.'))); }

std::string minor_of(std::string_view version) {
  const auto first = version.find('.');
  if (first == std::string_view::npos) return std::string(version);
  return std::string(version.substr(0, version.find('.', first + 1)));
}

// CUDA 11 and 12 wheels carry the major as a suffix (nvidia-cublas-cu12); CUDA 13's toolkit
// wheels dropped it (nvidia-cublas) and share one library directory, nvidia/cu13/lib, while
// NCCL and cuDNN kept the suffix and their own directories.
bool shares_cu13_dir(std::string_view major, std::string_view component) {
  return major == "13" && component != "nccl" && component != "cudnn";
}

CudaWheel wheel(std::string_view major, std::string_view component, std::string_view version) {
  CudaWheel result;
  result.package = "nvidia-" + std::string(component);
  if (!shares_cu13_dir(major, component)) result.package += "-cu" + std::string(major);
  result.version = std::string(version);
  if (shares_cu13_dir(major, component)) {
    result.lib_dir = "nvidia/cu13/lib";
  } else {
    std::string directory(component);
    std::replace(directory.begin(), directory.end(), '-', '_');
    result.lib_dir = "nvidia/" + directory + "/lib";
  }
  return result;
}

std::string known_minors() {
  std::string text;
  for (const auto& release : kReleases) text += (text.empty() ? "" : ", ") + std::string(release.minor);
  return text;
}

}  // namespace

std::vector<std::string> cuda_wheel_versions() {
  std::vector<std::string> minors;
  for (const auto& release : kReleases) minors.emplace_back(release.minor);
  return minors;
}

CudaWheelSet cuda_wheels_for(std::string_view cuda, std::string_view cudnn) {
  const std::string minor = minor_of(cuda);
  const auto* release =
      std::find_if(std::begin(kReleases), std::end(kReleases), [&](const Release& row) { return row.minor == minor; });
  if (release == std::end(kReleases)) {
    throw Error(
        ErrorKind::Compatibility, "build.cuda",
        "NVIDIA publishes no CUDA " + minor + " runtime wheels on PyPI, which is where this builder gets CUDA",
        "set cuda to one of " + known_minors() + " (libraries of one CUDA major keep their sonames across minors)");
  }
  const std::string major = major_of(minor);
  const std::string cudnn_major = major_of(cudnn);
  const auto* cudnn_row = std::find_if(std::begin(kCudnns), std::end(kCudnns), [&](const Cudnn& row) {
    return row.cuda_major == major && row.cudnn_major == cudnn_major;
  });
  if (cudnn_row == std::end(kCudnns)) {
    std::string offered;
    for (const auto& row : kCudnns) {
      if (row.cuda_major == major) offered += (offered.empty() ? "" : " or ") + std::string(row.cudnn_major);
    }
    throw Error(ErrorKind::Compatibility, "build.cudnn",
                "NVIDIA publishes no cuDNN " + cudnn_major + " wheels for CUDA " + major + " on PyPI",
                offered.empty() ? "leave cudnn out" : "set cudnn to " + offered + " (or leave it out)");
  }
  CudaWheelSet set;
  set.cuda_version = std::string(release->toolkit);
  set.cudnn_version = std::string(cudnn_row->version);
  for (size_t index = 0; index < kComponents.size(); ++index) {
    if (release->versions[index].empty()) continue;
    set.wheels.push_back(wheel(major, kComponents[index], release->versions[index]));
  }
  set.wheels.push_back(wheel(major, "cudnn", cudnn_row->version));
  return set;
}

std::vector<std::string> cuda_library_dirs(std::string_view cuda, std::string_view python_version) {
  const std::string major = major_of(cuda);
  const std::string site_packages = "/usr/local/lib/python" + std::string(python_version) + "/dist-packages/";
  std::vector<std::string> dirs;
  auto add = [&](std::string_view component) {
    const std::string dir = site_packages + wheel(major, component, "").lib_dir;
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  };
  for (const auto component : kComponents) {
    if (major == "11" && component == "nvjitlink") continue;  // new in CUDA 12
    add(component);
  }
  add("cudnn");
  return dirs;
}

}  // namespace cog::builder::pipeline
