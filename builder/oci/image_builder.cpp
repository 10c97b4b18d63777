#include "builder/oci/image_builder.hpp"

#include "builder/oci/files.hpp"
#include "builder/oci/overlay_layer.hpp"
#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;

ImageBuilder::ImageBuilder(Layout& target) : target_(target), lease_(target.root()) { from_scratch(); }

void ImageBuilder::from_scratch(const Platform& platform) {
  config_ = ImageConfig{};
  config_.platform = platform;
  config_.created = rfc3339(created_);
  layers_.clear();
}

void ImageBuilder::from_image(const Layout& source, const Descriptor& manifest_descriptor) {
  lease_.add(manifest_descriptor.digest);
  copy_image_blobs(source, manifest_descriptor, target_);
  Manifest manifest = target_.read_manifest(manifest_descriptor.digest);
  lease_.add(manifest.config.digest);
  for (const auto& layer : manifest.layers) lease_.add(layer.digest);
  config_ = target_.read_config(manifest);
  config_.created = rfc3339(created_);
  if (config_.diff_ids.size() != manifest.layers.size()) {
    throw Error(ErrorKind::Validation, manifest_descriptor.digest.str(),
                "the base image's config and manifest disagree on the number of layers", "use another base image");
  }
  layers_.clear();
  for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
    layers_.push_back({manifest.layers[i], config_.diff_ids[i]});
  }
}

void ImageBuilder::from_reference(const ImageReference& base) {
  Descriptor manifest = load_image(base, target_);
  from_image(target_, manifest);
}

void ImageBuilder::set_created(std::int64_t seconds_since_epoch) {
  created_ = seconds_since_epoch;
  config_.created = rfc3339(created_);
}

fs::path ImageBuilder::scratch_file() const {
  // Inside the layout, so moving the finished blob into place is a rename; the leading dot
  // keeps garbage collection away from it.
  return target_.blob_path(Digest{"sha256", ""}) / files::unique_name(".ingest-");
}

StoredLayer ImageBuilder::ingest(const LayerBlob& blob, std::string_view created_by) {
  lease_.add(blob.digest);
  Descriptor descriptor = target_.write_blob_file(blob.file, blob.media_type, blob.digest, true);
  StoredLayer layer{descriptor, blob.diff_id};
  add_layer(layer, created_by);
  return layer;
}

StoredLayer ImageBuilder::add_layer_from_directory(const fs::path& dir, const LayerOptions& options,
                                                   std::string_view created_by) {
  return ingest(write_layer_from_directory(dir, scratch_file(), options), created_by);
}

StoredLayer ImageBuilder::add_layer_from_overlay(const fs::path& upper_dir, const LayerOptions& options,
                                                 std::string_view created_by) {
  return ingest(write_layer_from_overlay(upper_dir, scratch_file(), options), created_by);
}

void ImageBuilder::add_layer(const StoredLayer& layer, std::string_view created_by) {
  lease_.add(layer.descriptor.digest);
  if (!target_.has_blob(layer.descriptor.digest)) {
    throw Error(ErrorKind::NotFound, layer.descriptor.digest.str(), "layer blob is not in the store",
                "rebuild without the cache (--no-cache)");
  }
  Descriptor descriptor = layer.descriptor;
  descriptor.annotations.clear();
  layers_.push_back({descriptor, layer.diff_id});
  config_.diff_ids.push_back(layer.diff_id);
  config_.history.push_back({rfc3339(created_), std::string(created_by), "", false});
}

void ImageBuilder::add_empty_history(std::string_view created_by) {
  config_.history.push_back({rfc3339(created_), std::string(created_by), "", true});
}

Descriptor ImageBuilder::commit(std::string_view tag) {
  config_.diff_ids.clear();
  for (const auto& layer : layers_) config_.diff_ids.push_back(layer.diff_id);
  Manifest manifest;
  lease_.add(sha256_of(canonical_json(config_)));
  manifest.config = target_.write_config(config_);
  for (const auto& layer : layers_) manifest.layers.push_back(layer.descriptor);
  lease_.add(sha256_of(canonical_json(manifest)));
  Descriptor descriptor = target_.write_manifest(manifest);
  if (!tag.empty()) target_.tag(tag, descriptor);
  return descriptor;
}

}  // namespace cog::builder::oci
