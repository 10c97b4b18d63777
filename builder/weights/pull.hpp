#pragma once
// `cog weights pull` and `cog weights status`: which locked files the local content store has,
// and fetching the missing ones from the model repository (each file verified against the
// digest weights.lock gives it before it is stored).
#include <filesystem>
#include <string>
#include <vector>

#include "builder/weights/content_store.hpp"
#include "builder/weights/import.hpp"
#include "builder/weights/lockfile.hpp"

namespace cog::builder::weights {

struct WeightStatus {
  std::string name;
  std::string target;
  // "cached" (every file in the store), "incomplete" (some missing), "not imported" (no lock
  // entry), "stale" (cog.yaml differs from the lock entry: see `problem`).
  std::string state;
  std::size_t files_cached = 0;
  std::size_t files_total = 0;
  std::string problem;
  const LockedWeight* locked = nullptr;
};

std::vector<WeightStatus> weights_status(const config::Config& config, const WeightsLock* lock,
                                         const ContentStore& store);

// "cached (3/3 files)", "1 missing / 3 total", "not imported", "stale: …"
std::string describe(const WeightStatus& status);

// Whether `path` names a regular file that the unpacked layer at `root` holds itself: a relative
// path of plain names with no symlink on the way, so that a hostile layer's link never hands a
// file from elsewhere on this machine to the weights cache.
bool is_file_in_layer(const std::filesystem::path& root, const std::string& path);

// Fills the store with the files of the named weights (all when none named) that it lacks.
// Prints `Pulling <name> (N missing / M total)...`, `Pulled <name> …`, or `All N weight(s)
// already cached`. Throws cog::Error.
void pull_weights(const config::Config& config, const WeightsLock& lock, const WeightsOptions& options);

}  // namespace cog::builder::weights
