#pragma once
// An OCI image layout directory (oci-layout, index.json, blobs/<alg>/<hex>). Blob writes are
// atomic and verified; index.json updates are serialised with a lock file beside it, so several
// processes may share one layout (the local image store is one).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "builder/oci/descriptor.hpp"
#include "builder/oci/image.hpp"

namespace cog::builder::oci {

struct TaggedManifest {
  std::string name;  // the org.opencontainers.image.ref.name annotation
  Descriptor manifest;
};

// Keeps blobs alive through collect_garbage while an image is being assembled and not yet
// tagged. A lease is a file under <layout>/.cog-leases named after the owning process; it goes
// when the object dies, and a lease whose process is gone is ignored and cleaned up.
class BlobLease {
 public:
  explicit BlobLease(const std::filesystem::path& layout_root);
  ~BlobLease();
  BlobLease(const BlobLease&) = delete;
  BlobLease& operator=(const BlobLease&) = delete;

  void add(const Digest& digest);  // call before the blob is written

 private:
  std::filesystem::path file_;
};

struct GcResult {
  std::size_t blobs_removed = 0;
  std::int64_t bytes_removed = 0;
};

class Layout {
 public:
  // Opens the layout at `root`, creating the directory structure when it is missing.
  static Layout create(const std::filesystem::path& root);
  // Opens an existing layout; throws cog::Error(NotFound) when `root` is not one.
  static Layout open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path blob_path(const Digest& digest) const;
  bool has_blob(const Digest& digest) const;

  // Stores bytes; returns their descriptor. When `expected` is given and differs, throws and
  // stores nothing.
  Descriptor write_blob(std::string_view data, std::string media_type,
                        const std::optional<Digest>& expected = std::nullopt);
  // Copies (or, with `move`, renames when possible) a file into the blob store after hashing it.
  Descriptor write_blob_file(const std::filesystem::path& file, std::string media_type,
                             const std::optional<Digest>& expected = std::nullopt, bool move = false);
  std::string read_blob(const Digest& digest) const;  // throws NotFound

  Manifest read_manifest(const Digest& digest) const;
  ImageConfig read_config(const Manifest& manifest) const;
  // Serialises and stores a config / manifest; returns its descriptor.
  Descriptor write_config(const ImageConfig& config);
  Descriptor write_manifest(const Manifest& manifest);

  Index index() const;
  std::vector<TaggedManifest> list() const;
  std::optional<Descriptor> find(std::string_view name) const;
  // Adds `manifest` under `name`, replacing an entry with the same name.
  void tag(std::string_view name, const Descriptor& manifest);
  // Removes the entry named `name`; returns false when there was none.
  bool untag(std::string_view name);
  // Deletes blobs not reachable from index.json, nor listed in `extra_roots` or a live lease.
  GcResult collect_garbage(const std::set<Digest>& extra_roots = {});
  // Runs `read` holding the lock that tag, untag and collect_garbage take, so what it reads of
  // index.json and the blobs that names is one snapshot: no listed image is untagged, nor any of
  // its blobs collected, meanwhile. `read` must not tag, untag or collect (the lock is not
  // re-entrant) and should be brief: builds wait to tag while it runs.
  void read_consistently(const std::function<void()>& read) const;

 private:
  explicit Layout(std::filesystem::path root) : root_(std::move(root)) {}
  void write_index(const Index& index);
  std::filesystem::path root_;
};

}  // namespace cog::builder::oci
