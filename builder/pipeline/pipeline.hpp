#pragma once
// `cog build` without a daemon: cog.yaml + the project → an OCI image in the local store.
// One context flows through named phases (schema, plan, base, packages, runtime, run steps,
// source, commit), each timed; every layer is cached by a key of everything that went into it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/config/load.hpp"
#include "builder/oci/descriptor.hpp"

namespace cog::builder::pipeline {

struct BuildOptions {
  std::string tag;                   // -t; empty = cog.yaml `image`, else cog-<dirname>
  std::vector<std::string> outputs;  // -o oci:DIR[:TAG] | docker-archive:FILE[:REF]
  bool no_cache = false;
  std::string base_image;         // --base-image REGISTRY/REPO[:TAG] | oci:DIR[:TAG] | docker-archive:FILE | store name
  std::string registry_mirror;    // --registry-mirror / COG_REGISTRY_MIRROR: HOST[:PORT] for unreachable registries
  bool separate_weights = false;  // --separate-weights: weights in their own layers before the code
  // --use-cuda-base-image: "false" is Cog's python base for gpu: true, without CUDA libraries
  // (torch and the like bring their own), so no CUDA layer; "auto" and "true" add it.
  std::string use_cuda_base_image = "auto";
  // --use-cog-base-image: nullopt is Cog's default (on where Cog publishes a cog-base image for
  // the CUDA/Python/torch combination); on, the image gets cog-base's Debian packages as one
  // layer shared by every model on the same base; false, nothing extra.
  std::optional<bool> use_cog_base_image;
  std::map<std::string, std::string> labels;  // added last (cog push: run.cog.push_id)
  std::filesystem::path openapi_schema_file;  // --openapi-schema
  std::vector<std::string> secrets;           // --secret id=ID,src=FILE | id=ID,env=VAR
  std::int64_t source_date_epoch = 0;         // --timestamp / SOURCE_DATE_EPOCH
  bool dev = false;                           // run/serve/exec: no source layer, no labels
  // cog exec: an environment is all it needs, so a cog.yaml naming no model (no run/predict or
  // train) builds one without a schema, as Cog's exec skips schema validation.
  bool model_optional = false;
  std::string config_file_name = "cog.yaml";
  std::filesystem::path store_dir;  // empty = oci::default_store_path()
  std::filesystem::path cache_dir;  // empty = $XDG_CACHE_HOME/cog
};

struct PhaseTiming {
  std::string name;
  std::chrono::milliseconds elapsed{0};
};

struct BuildResult {
  std::string image_name;  // as tagged in the store
  oci::Descriptor manifest;
  std::string openapi_schema;
  int layers_reused = 0;  // cache hits
  int layers_built = 0;   // layers produced by this build
  std::vector<PhaseTiming> phases;
};

// Progress lines for the user (plain text, one per call, no newline).
using ProgressSink = std::function<void(std::string_view line)>;

BuildResult build_image(const config::LoadedConfig& loaded, const BuildOptions& options, const ProgressSink& progress);

}  // namespace cog::builder::pipeline
