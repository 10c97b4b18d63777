#pragma once
// Where `cog push` sends the image (Cog §1.10): the argument, else cog.yaml's `image:`; with
// `model:` in cog.yaml the argument is refused and COG_MODEL / COG_MODEL_REGISTRY /
// COG_MODEL_REPO / COG_MODEL_TAG adjust the model's reference instead.
#include <functional>
#include <string>

#include "builder/registry/reference.hpp"

namespace cog::builder::registry {

struct PushTargetInputs {
  std::string argument;                         // `cog push IMAGE`
  std::string config_image;                     // cog.yaml `image:`
  std::string config_model;                     // cog.yaml `model:`
  std::function<const char*(const char*)> env;  // empty = std::getenv
};

// Throws cog::Error(Usage) with Cog's wording when there is no target or the argument is not allowed.
Reference resolve_push_target(const PushTargetInputs& inputs);

}  // namespace cog::builder::registry
