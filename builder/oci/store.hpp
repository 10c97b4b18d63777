#pragma once
// The local image store: one OCI layout under $COG_IMAGE_STORE, else
// $XDG_DATA_HOME/cog/images, else ~/.local/share/cog/images. Images are tagged by full name
// ("r8.im/user/model:latest"); a name without a tag or digest means ":latest".
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/oci/layout.hpp"

namespace cog::builder::oci {

// How the store finds environment variables; empty = std::getenv (tests pass their own).
using EnvLookup = std::function<const char*(const char*)>;

std::filesystem::path default_store_path(const EnvLookup& env = {});
// Whether `root` is the store every cog shares ($XDG_DATA_HOME/cog/images, else
// ~/.local/share/cog/images), whatever COG_IMAGE_STORE says: a private store does not know what the
// shared caches' other users need.
bool is_shared_store(const std::filesystem::path& root, const EnvLookup& env = {});
// $XDG_CACHE_HOME/cog, else ~/.cache/cog: the build's caches (layer-dirs, step caches, bases).
std::filesystem::path default_cache_root(const EnvLookup& env = {});
// $COG_LAYER_CACHE, else $XDG_CACHE_HOME/cog/layers, else ~/.cache/cog/layers.
std::filesystem::path default_layer_cache_path(const EnvLookup& env = {});

// "model" -> "model:latest"; "host:5000/model" -> "host:5000/model:latest"; names with a tag or
// "@sha256:..." are returned unchanged. Throws cog::Error(Usage) for an empty name.
std::string normalize_image_name(std::string_view name);

struct ImageSummary {
  std::string name;
  Digest manifest_digest;
  Digest config_digest;
  std::int64_t size = 0;  // config + layers, as stored
  std::string created;
};

class ImageStore {
 public:
  explicit ImageStore(const std::filesystem::path& root);

  Layout& layout() { return layout_; }
  const Layout& layout() const { return layout_; }

  std::optional<Descriptor> find(std::string_view name) const;
  Descriptor resolve(std::string_view name) const;  // throws cog::Error(NotFound)
  void tag(std::string_view name, const Descriptor& manifest);
  std::vector<ImageSummary> list() const;
  // Untags `name` and deletes blobs no image uses any more; false when there was no such image.
  bool remove(std::string_view name);

 private:
  Layout layout_;
};

}  // namespace cog::builder::oci
