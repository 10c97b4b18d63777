#pragma once
// `gpu: true` on our Debian base: the CUDA and cuDNN runtime libraries come from NVIDIA's
// redistributable wheels on PyPI (nvidia-*-cu11 / -cu12, the suffix-less CUDA 13 names), pinned to
// the CUDA release and cuDNN major that the completed config names, and installed by one
// sandboxed pip step right after the base. Cog gets the same libraries from an nvidia/cuda base
// image, which this builder cannot pull; the image env and labels follow those images.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "builder/config/config.hpp"
#include "builder/exec/install_steps.hpp"

namespace cog::builder::pipeline {

// One pinned wheel and the directory (relative to site-packages) its shared libraries land in.
struct CudaWheel {
  std::string package;  // "nvidia-cublas-cu12"
  std::string version;  // "12.4.5.8"
  std::string lib_dir;  // "nvidia/cublas/lib"
};

// The wheels of one CUDA toolkit release plus one cuDNN.
struct CudaWheelSet {
  std::string cuda_version;       // the toolkit release the wheels belong to, "12.4.1"
  std::string cudnn_version;      // "9.28.0.42"
  std::vector<CudaWheel> wheels;  // the CUDA runtime first, cuDNN last
};

// The wheels for a completed CUDA (major.minor or full) and cuDNN major, from the table in
// cuda_wheels.cpp. Throws cog::Error(Compatibility) naming what PyPI has when there are none.
CudaWheelSet cuda_wheels_for(std::string_view cuda, std::string_view cudnn);

// The CUDA minors (major.minor) the table covers, oldest first.
std::vector<std::string> cuda_wheel_versions();

// Where the libraries of a CUDA major's wheels land in the image's site-packages (absolute,
// cuDNN's directory included), in the order the dynamic loader should search them.
std::vector<std::string> cuda_library_dirs(std::string_view cuda, std::string_view python_version);

// What a GPU image gets in place of an nvidia/cuda base.
struct CudaRuntimeLayer {
  std::string description;   // "CUDA 12.4.1 / cuDNN 9.28.0.42 runtime (NVIDIA wheels from PyPI)"
  std::string requirements;  // one `name==version` line per wheel; empty: no layer
  std::vector<CudaWheel> wheels;
  // Why some or all wheels are left to the requirements step (torch pulls its own): empty if none.
  std::string note;
  std::vector<std::pair<std::string, std::string>> env;  // in image order
  std::map<std::string, std::string> labels;
};

// The CUDA layer of a completed config; nullopt for a CPU config. When the requirements install
// NVIDIA's wheels themselves (torch, tensorflow[and-cuda], jax[cuda12], nvidia-* lines), the
// layer leaves those to them instead of installing a second copy (see cuda_layer.cpp). Throws
// cog::Error(Compatibility) when PyPI has no wheels for the CUDA / cuDNN.
std::optional<CudaRuntimeLayer> plan_cuda_runtime(const config::Config& completed);

// `pip install --no-deps -r <requirements>` into the system site-packages (the table pins every
// dependency among the wheels), then the wheels' library directories (nvidia/*/lib, wherever pip
// put them) in /etc/ld.so.conf.d/cog-cuda.conf and `ldconfig`, so programs that clear
// LD_LIBRARY_PATH still find them.
exec::StepSpec cuda_runtime_step(const std::filesystem::path& requirements_file, const exec::StepCaches& caches,
                                 std::int64_t source_date_epoch);

// Docker's ENV expansion of `$LD_LIBRARY_PATH` / `${LD_LIBRARY_PATH}` in `value` with the
// current value, without the empty entries an unset variable leaves (an empty entry means the
// working directory to the loader) and without repeating a directory.
std::string expand_library_path(std::string_view value, std::string_view current);

}  // namespace cog::builder::pipeline
