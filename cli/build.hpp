#pragma once
// What other commands share with `cog build`: running the build pipeline with --progress's view.
#include <string>

#include "builder/build/pipeline.hpp"
#include "builder/config/load.hpp"

namespace cog::cli {

// Builds with the progress `mode` asks for: tty (or auto on a terminal) draws the live view,
// plain prints the pipeline's lines, quiet prints nothing. A failed step's output stays on screen.
builder::build::BuildResult build_with_progress(const builder::config::LoadedConfig& loaded,
                                                const builder::build::BuildOptions& options,
                                                const std::string& mode);

}  // namespace cog::cli
