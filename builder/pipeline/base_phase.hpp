#pragma once
// The base phase: the first layers of the image and the root every later step runs over.
#include "builder/pipeline/context.hpp"

namespace cog::builder::pipeline {

// Debian from debootstrap, with Debian's Python or with a python-build-standalone one over it
// (base_phase.cpp), or --base-image's layers as they are (external_base.cpp). Sets base,
// python_root and the start of the layer chain; runs the schema phase inside the base when the
// schema phase left it for later.
void add_base(BuildContext& ctx);

// --base-image: the base's layers and config, its facts (Python, tini) checked, static tini added
// where it has none.
void add_external_base(BuildContext& ctx);

}  // namespace cog::builder::pipeline
