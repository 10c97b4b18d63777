#pragma once
// What other commands share with `cog build`: its flags, and running the pipeline with --progress's view.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "builder/pipeline/pipeline.hpp"
#include "builder/config/load.hpp"
#include "cli/progress_view.hpp"

namespace cog::cli {

// The flags `cog build` and `cog push` share (Cog: push takes build's flags).
struct BuildFlags {
  builder::pipeline::BuildOptions options;
  std::string config_file = "cog.yaml";
  std::string progress = default_progress();
  bool separate_weights = false;
  std::string use_cuda_base_image = "auto";
  std::string use_cog_base_image;  // "" = not given (Cog's default), else the flag's value
  long timestamp = -1;
};

// Adds them to `build` (build's -t/-o and push's IMAGE are each command's own).
void add_build_flags(CLI::App* build, BuildFlags* flags);

// --use-cog-base-image's value: nullopt when not given; Cog's boolean spellings, else a usage error.
std::optional<bool> parse_cog_base_flag(const std::string& value);

// The pipeline's options from the flags and the environment (SOURCE_DATE_EPOCH, COG_REGISTRY_MIRROR).
builder::pipeline::BuildOptions build_options_from(const BuildFlags& flags);

// Builds with the progress `mode` asks for: tty (or auto on a terminal) draws the live view,
// plain prints the pipeline's lines, quiet prints nothing. A failed step's output stays on screen.
builder::pipeline::BuildResult build_with_progress(const builder::config::LoadedConfig& loaded,
                                                   const builder::pipeline::BuildOptions& options,
                                                   const std::string& mode);

}  // namespace cog::cli
