#pragma once
// `cog weights import`: for each weight of cog.yaml, collect its files (sources.hpp), pack them
// into deterministic tar layers, push them to the `model:` repository as one OCI artifact per
// weight (artifactType application/vnd.cog.weight.v1, tagged weights-<name>-<12 hex of setDigest>),
// copy the files into the local content store, and write weights.lock.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "builder/config/config.hpp"
#include "builder/registry/transfer.hpp"
#include "builder/weights/lockfile.hpp"

namespace cog::builder::weights {

inline constexpr const char* kWeightConfigMediaType = "application/vnd.cog.weight.config.v1+json";
inline constexpr const char* kNameAnnotation = "run.cog.weight.name";
inline constexpr const char* kTargetAnnotation = "run.cog.weight.target";
inline constexpr const char* kSetDigestAnnotation = "run.cog.weight.set-digest";
// Files at least this big get a layer of their own, uncompressed (weights hardly compress);
// smaller ones share one gzip layer.
inline constexpr std::int64_t kOwnLayerBytes = 64LL << 20;

struct WeightsOptions {
  std::vector<std::string> names;  // empty = every weight of cog.yaml
  bool dry_run = false;
  bool verbose = false;
  registry::TransferOptions transfer;  // how to reach the registry
  std::ostream* out = nullptr;         // messages (stderr); null = silent
  std::filesystem::path cache_dir;     // default_cache_dir() when empty
};

// Throws cog::Error(Usage) naming the unknown ones when `names` has a weight cog.yaml lacks.
void check_names(const config::Config& config, const std::vector<std::string>& names);

// Imports and writes weights.lock (weights not named keep their entry). Returns the new lock
// (with dry_run: the current one, untouched). Throws cog::Error.
WeightsLock import_weights(const config::Config& config, const WeightsOptions& options);

// The repository reference of a weight's artifact: <model>@<digest>.
std::string weight_reference(const config::Config& config, const LockedWeight& weight);

}  // namespace cog::builder::weights
