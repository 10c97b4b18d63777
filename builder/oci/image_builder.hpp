#pragma once
// Assembling an image without a daemon: start from a base (scratch, a store image, an oci: or
// docker-archive: source), append layers, edit the config, commit. Blobs go into one target
// layout (normally the local store's), so commit only writes the config and manifest.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/oci/image.hpp"
#include "builder/oci/layer_cache.hpp"
#include "builder/oci/layout.hpp"
#include "builder/oci/tar_writer.hpp"
#include "builder/oci/transport.hpp"

namespace cog::builder::oci {

class ImageBuilder {
 public:
  explicit ImageBuilder(Layout& target);

  // Bases. Each resets layers and config to the base's.
  void from_scratch(const Platform& platform = {});
  void from_image(const Layout& source, const Descriptor& manifest);  // copies blobs if needed
  void from_reference(const ImageReference& base);                    // Store references are looked up in target

  // The config to edit (env, entrypoint, cmd, labels, ...). Layers and history are managed here.
  ImageConfig& config() { return config_; }
  const ImageConfig& config() const { return config_; }
  const std::vector<StoredLayer>& layers() const { return layers_; }

  // New layers; `created_by` is recorded in history. Return the stored layer (for the cache).
  StoredLayer add_layer_from_directory(const std::filesystem::path& dir, const LayerOptions& options,
                                       std::string_view created_by);
  StoredLayer add_layer_from_overlay(const std::filesystem::path& upper_dir, const LayerOptions& options,
                                     std::string_view created_by);
  // A layer whose blob is already in the target layout (a cache hit). Throws NotFound if not.
  void add_layer(const StoredLayer& layer, std::string_view created_by);
  // A history line for a config-only step (ENV, LABEL, ...).
  void add_empty_history(std::string_view created_by);

  // `created` for the config and new history entries (SOURCE_DATE_EPOCH); default 0.
  void set_created(std::int64_t seconds_since_epoch);

  // Writes config and manifest into the target; tags it when `tag` is non-empty (as given: for the
  // store, pass normalize_image_name(name) or use ImageStore::tag). Returns the
  // manifest descriptor. The same inputs give the same digest.
  Descriptor commit(std::string_view tag = {});

 private:
  StoredLayer ingest(const LayerBlob& blob, std::string_view created_by);
  std::filesystem::path scratch_file() const;

  Layout& target_;
  BlobLease lease_;  // keeps new and reused blobs alive until a tag holds them
  ImageConfig config_;
  std::vector<StoredLayer> layers_;
  std::int64_t created_ = 0;
};

}  // namespace cog::builder::oci
