#pragma once
// The source phase: what comes from the project directory itself — the code as /src, the
// weights as their own layers (--separate-weights), and local wheels the requirements name.
#include <string>
#include <vector>

#include "builder/pipeline/context.hpp"
#include "builder/exec/sandbox.hpp"

namespace cog::builder::pipeline {

// Local wheels and sdists named in the requirements (./dist/x.whl) are bound read-only where the
// generated requirements expect them (/tmp/local_package_artifacts/<path>) and key the layer by
// content. As Cog does, cog/coglet that they pulled in are uninstalled again: the image's SDK is ours.
void add_local_artifacts(BuildContext& ctx, exec::StepSpec& spec, std::vector<std::string>& inputs);

// --separate-weights: one layer per weight file or directory (at /src/<path>), before the code.
void add_weights(BuildContext& ctx, const std::string& path);

// COPY . /src: the project less .dockerignore, .cog and the weights, plus the schema and the config.
void add_source(BuildContext& ctx);

}  // namespace cog::builder::pipeline
