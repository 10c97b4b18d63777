#pragma once
// Content-addressed layer cache: a key the caller computes (sha256 of everything that goes into a
// build step) -> the layer it produced. Entries are small JSON files under the cache directory;
// the blobs live in a layout (the store's). An entry whose blob is gone is a miss.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "builder/oci/descriptor.hpp"
#include "builder/oci/layout.hpp"

namespace cog::builder::oci {

struct StoredLayer {
  Descriptor descriptor;  // the blob as stored (usually tar+gzip)
  Digest diff_id;         // sha256 of the uncompressed tar
  bool operator==(const StoredLayer&) const = default;
};

class LayerCache {
 public:
  LayerCache(std::filesystem::path dir, const Layout& blobs);

  // `key` must be [A-Za-z0-9._:-]+ (a digest string is fine); throws cog::Error(Usage) otherwise.
  std::optional<StoredLayer> lookup(std::string_view key) const;
  void store(std::string_view key, const StoredLayer& layer);
  void remove(std::string_view key);

 private:
  std::filesystem::path entry_path(std::string_view key) const;
  std::filesystem::path dir_;
  const Layout& blobs_;
};

}  // namespace cog::builder::oci
