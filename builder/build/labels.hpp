#pragma once
// Cog's image labels (run.cog.*) and the compact config JSON that run.cog.config carries.
#include <map>
#include <string>

#include "builder/config/config.hpp"

namespace cog::builder::build {

// The completed config as compact JSON; the runner reference goes under "predict", as Cog writes it.
std::string config_label(const config::Config& config, int max_concurrency);

struct LabelInputs {
  std::string version;          // run.cog.version (== the schema's info.version)
  std::string config_json;      // run.cog.config
  std::string openapi_schema;   // run.cog.openapi_schema
  std::string pip_freeze;       // run.cog.pip_freeze
  bool has_init = true;         // run.cog.has_init
  std::string revision;         // org.opencontainers.image.revision (git), empty = none
};

std::map<std::string, std::string> image_labels(const LabelInputs& inputs);

}  // namespace cog::builder::build
