#pragma once
// The local content store of weight files: one file per content digest, at
// <cache>/weights/files/sha256/<hex>, where <cache> is $COG_CACHE_DIR, else $XDG_CACHE_HOME/cog,
// else ~/.cache/cog (as Cog). Files enter under a temporary name and are renamed into place, so
// a reader never sees half a file; they are read-only once stored.
#include <filesystem>
#include <string>

#include "builder/oci/digest.hpp"

namespace cog::builder::weights {

// $COG_CACHE_DIR, else $XDG_CACHE_HOME/cog, else $HOME/.cache/cog.
std::filesystem::path default_cache_dir();

class ContentStore {
 public:
  explicit ContentStore(std::filesystem::path cache_dir);

  const std::filesystem::path& root() const { return root_; }  // <cache>/weights/files
  std::filesystem::path path_of(const oci::Digest& digest) const;
  bool has(const oci::Digest& digest) const;

  // Copies `file` in (its digest must be `digest`; checked while copying). With `move`, renames
  // it instead when it is on the same file system. Does nothing when the digest is present.
  // Throws cog::Error(Io) or, on a digest mismatch, cog::Error(Validation).
  void add(const std::filesystem::path& file, const oci::Digest& digest, bool move = false);

 private:
  std::filesystem::path root_;
};

}  // namespace cog::builder::weights
