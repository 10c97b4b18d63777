#pragma once
// Pieces the container commands (exec, run, serve, train) share.
#include <string>
#include <vector>

#include "builder/config/load.hpp"
#include "builder/container/gpu.hpp"

#include <CLI/CLI.hpp>

namespace cog::cli {

// The flags every container command (run, serve, exec, train) takes, with one wording.
struct ContainerFlags {
  std::string runtime;            // --runtime runc|crun|docker|podman
  std::string progress = "auto";  // --progress of the development image build
  std::string gpus;               // --gpus, docker's syntax
  // The development image's base, as `cog build`'s flags of the same names (no effect with --local
  // or a named image).
  std::string use_cuda_base_image = "auto";
  std::string use_cog_base_image;  // "" = not given (Cog's default)
};
void add_container_flags(CLI::App* command, ContainerFlags& flags);

// `-e NAME=value` flags, checked. Throws cog::Error(Usage) for a value without '='.
std::vector<std::string> parse_env_flags(const std::vector<std::string>& values);

// Builds the development image (no source layer: the project is mounted at /src) and returns
// its name in the local store, with the base `flags` ask for (--progress quiet prints nothing).
// `model_optional`: cog exec, which needs no model in cog.yaml.
std::string build_dev_image(const builder::config::LoadedConfig& loaded, const std::string& config_file,
                            const ContainerFlags& flags, bool model_optional = false);

// `cog run/predict/train IMAGE`: makes sure the local store has `image`, pulling it (progress on
// stderr, credentials from `cog login`) when only its registry does, as Cog does.
void ensure_image(const std::string& image);

std::string join_command(const std::vector<std::string>& argv);

// `--gpus` for a container of `image` (a store name) run by `runtime`: CDI edits, the NVIDIA hook or
// device nodes (builder/container/gpu.hpp), after checking that the host has the GPUs and a driver
// new enough for the image's CUDA. Docker and podman get the request as it is. None when `gpus` is
// empty.
builder::container::GpuAccess gpu_access_for(const std::string& gpus, const std::string& image,
                                             const std::string& runtime);

}  // namespace cog::cli
