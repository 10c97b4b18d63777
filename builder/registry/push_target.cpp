#include "builder/registry/push_target.hpp"

#include <cstdlib>

#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

std::string lookup(const PushTargetInputs& inputs, const char* name) {
  const char* value = inputs.env ? inputs.env(name) : std::getenv(name);
  return value ? value : "";
}

}  // namespace

Reference resolve_push_target(const PushTargetInputs& inputs) {
  if (!inputs.config_model.empty()) {
    if (!inputs.argument.empty())
      throw Error(ErrorKind::Usage, "cog push", "an image name argument cannot be used when cog.yaml sets `model`",
                  "set COG_MODEL (or COG_MODEL_REGISTRY, COG_MODEL_REPO, COG_MODEL_TAG) to push elsewhere");
    std::string model = lookup(inputs, "COG_MODEL");
    Reference ref = parse_reference(model.empty() ? inputs.config_model : model);
    if (auto registry = lookup(inputs, "COG_MODEL_REGISTRY"); !registry.empty()) ref.registry = registry;
    if (auto repository = lookup(inputs, "COG_MODEL_REPO"); !repository.empty()) ref.repository = repository;
    if (auto tag = lookup(inputs, "COG_MODEL_TAG"); !tag.empty()) {
      if (tag.starts_with("cog-"))
        throw Error(ErrorKind::Usage, "COG_MODEL_TAG", "tags starting with 'cog-' are reserved", "choose another tag");
      ref.tag = tag;
      ref.digest.clear();
    }
    return parse_reference(ref.str());  // validates the adjusted parts
  }
  std::string target = inputs.argument.empty() ? inputs.config_image : inputs.argument;
  if (target.empty())
    throw Error(ErrorKind::Usage, "cog push",
                "To push images, you must either set the 'image' option in cog.yaml or pass an image name "
                "as an argument. For example, 'cog push registry.hooli.corp/hotdog-detector'");
  return parse_reference(target);
}

}  // namespace cog::builder::registry
