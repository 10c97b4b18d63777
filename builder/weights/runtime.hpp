#pragma once
// Weights at run time, and in the pushed artifact: the /.cog/weights.json the image carries,
// the read-only mounts `cog run/serve` give the container (hard links of the cached files under
// .cog/mounts/<id>/, removed again on exit), and the image index `cog push` sends.
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "builder/config/config.hpp"
#include "builder/registry/transfer.hpp"
#include "builder/weights/content_store.hpp"
#include "builder/weights/lockfile.hpp"

namespace cog::builder::weights {

// {"weights":[{"name","target","setDigest"}]}, in cog.yaml's order.
std::string runtime_manifest_json(const WeightsLock& lock);

struct WeightMount {
  std::filesystem::path source;  // a directory on the host
  std::string target;            // inside the container, mounted read-only
};

// The files of every weight, hard-linked (copied across file systems) from the store into
// <parent>/<id>/<name>/ (the project's .cog/mounts, or the cache's weights/mounts for a named
// image), each mounted at the weight's target. The directory goes when the object does; the
// store remembers each set (image_weights.hpp).
class PreparedMounts {
 public:
  // Throws cog::Error naming the weight when the store lacks a file (run cog weights pull).
  PreparedMounts(const std::filesystem::path& parent, const std::vector<LockedWeight>& weights,
                 const ContentStore& store);
  ~PreparedMounts();
  PreparedMounts(const PreparedMounts&) = delete;
  PreparedMounts& operator=(const PreparedMounts&) = delete;

  const std::vector<WeightMount>& mounts() const { return mounts_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<WeightMount> mounts_;
};

// For `cog run/serve` in a project with weights: checks weights.lock against cog.yaml, pulls what
// the store lacks (messages to `out`), and links the files. Null for a project without weights.
std::unique_ptr<PreparedMounts> prepare_mounts(const config::Config& config, const registry::TransferOptions& transfer,
                                               std::ostream* out);

// After `cog push` sent the image manifest `image_digest` to `target` (a tag in the model
// repository): replaces the tag with an OCI index of the image (platform linux/amd64) and each
// locked weight's manifest (artifactType application/vnd.cog.weight.v1). Returns its digest.
// Throws cog::Error naming the weight when its manifest is not in the repository.
std::string push_weights_index(const std::string& target, const std::string& image_digest, const WeightsLock& lock,
                               const registry::TransferOptions& options);

}  // namespace cog::builder::weights
