#pragma once
// The runtime phase: our server, worker and SDK as one layer (Cog installs its wheel instead),
// with a worker compiled for the image's Python when this cog's embeds another.
#include <string>

#include "builder/pipeline/context.hpp"

namespace cog::builder::pipeline {

// The runtime layer, keyed by the identity of the files in it.
void add_runtime(BuildContext& ctx);

// `pip freeze` in the finished root (run.cog.pip_freeze), cached by the chain key; empty, with
// a warning, when it fails.
std::string pip_freeze(BuildContext& ctx);

}  // namespace cog::builder::pipeline
