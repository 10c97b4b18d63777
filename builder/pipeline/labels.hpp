#pragma once
// Cog's image labels (run.cog.*) and the compact config JSON that run.cog.config carries.
#include <filesystem>
#include <map>
#include <string>

#include "builder/config/config.hpp"

namespace cog::builder::pipeline {

// The completed config as compact JSON; the runner reference goes under "predict", as Cog writes it.
// `concurrency` appears when cog.yaml sets it or the runner's decorator asks for more than one.
std::string config_label(const config::Config& config, int max_concurrency);

struct LabelInputs {
  std::string version;         // run.cog.version (== the schema's info.version)
  std::string config_json;     // run.cog.config
  std::string openapi_schema;  // run.cog.openapi_schema
  std::string pip_freeze;      // run.cog.pip_freeze
  bool has_init = true;        // run.cog.has_init
  std::string revision;        // org.opencontainers.image.revision, empty = none
  std::string source_version;  // org.opencontainers.image.version, empty = none
};

std::map<std::string, std::string> image_labels(const LabelInputs& inputs);

// What Cog labels a build with, from CI's variables or the project's git work tree: the revision is
// $GITHUB_SHA or `git rev-parse HEAD`, the version $GITHUB_REF_NAME or `git describe --tags
// --dirty`. Empty where neither gives one (no git, not a work tree, no tags).
std::string source_revision(const std::filesystem::path& project_dir);
std::string source_version(const std::filesystem::path& project_dir);

}  // namespace cog::builder::pipeline
