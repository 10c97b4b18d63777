#pragma once
// The Dockerfile view of a build plan: what Cog would generate for the same cog.yaml. A view
// only; the daemonless builder executes the plan itself and never parses this text.
#include <string>

#include "builder/plan/plan.hpp"

namespace cog::builder::plan {

// The runner image's Dockerfile (no trailing newline, like Cog's).
std::string render_dockerfile(const Plan& plan);

// With separate weights: the `FROM scratch` Dockerfile of the weights image.
std::string render_weights_dockerfile(const Plan& plan);

// What `cog debug` prints: the Dockerfile, or with separate weights the three sections
// `=== Weights Dockerfile contents:`, `=== Runner Dockerfile contents:`,
// `=== Weights exclude patterns:`. Ends with a newline.
std::string render_debug_output(const Plan& plan);

}  // namespace cog::builder::plan
