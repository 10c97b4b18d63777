#pragma once
// The wheel phase: COG_SDK_WHEEL / COGLET_WHEEL's escape hatch (and second oracle). Instead of our
// runtime layer, the image's Python gets the cog SDK (and coglet) those variables name, and the
// image's command becomes Cog's own server, `python -m cog.server.http`, as in Cog's images.
#include <array>

#include "builder/pipeline/context.hpp"

namespace cog::builder::pipeline {

// The image's command when it runs Cog's runtime.
inline constexpr std::array<const char*, 3> kCogServerCommand = {"python", "-m", "cog.server.http"};

// One sandboxed `pip install` of the wheels (pypi, pypi:<ver> and URLs from the network; a file or
// dist/ wheel bound into the step), plus a `python` command when the image has none; keyed by the
// requirements, the wheel files' digests and the step environment. A coglet wheel from a file or
// URL also sets R8_COG_VERSION=coglet and R8_PYTHON_VERSION, as Cog does.
void install_cog_wheels(BuildContext& ctx);

}  // namespace cog::builder::pipeline
