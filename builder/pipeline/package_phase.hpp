#pragma once
// The package phase: the steps that run in the sandbox over the layers below them, one layer
// each: the CUDA runtime wheels, system packages, Python packages and `build.run` commands.
#include "builder/pipeline/context.hpp"

namespace cog::builder::pipeline {

// gpu: true: the CUDA / cuDNN runtime wheels right after the base, and the env and labels of an
// nvidia/cuda base (builder/pipeline/cuda_layer.hpp). A base image that has CUDA already is kept.
void add_cuda_runtime(BuildContext& ctx);

// Where Cog would start from r8.im/cog-base (ctx.cog_base): cog-base's Debian packages (ffmpeg,
// libgl1, build tools, ...) as one layer right over the base, shared by every model on it.
void add_cog_base_packages(BuildContext& ctx);

// build.system_packages: apt-get install (less what the cog-base layer has).
void install_system_packages(BuildContext& ctx, const plan::Step& step);

// build.python_packages / python_requirements: pip install -r, local artifacts bound in.
void install_python_packages(BuildContext& ctx);

// build.run: one command, with the secrets it mounts.
void run_command(BuildContext& ctx, const plan::Step& step);

}  // namespace cog::builder::pipeline
