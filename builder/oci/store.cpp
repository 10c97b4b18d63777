#include "builder/oci/store.hpp"

#include <cstdlib>

#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;
namespace {

const char* lookup(const EnvLookup& env, const char* name) {
  const char* value = env ? env(name) : std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

fs::path xdg_dir(const EnvLookup& env, const char* xdg_variable, const char* home_fallback) {
  if (const char* xdg = lookup(env, xdg_variable)) return fs::path(xdg) / "cog";
  if (const char* home = lookup(env, "HOME")) return fs::path(home) / home_fallback / "cog";
  throw Error(ErrorKind::NotFound, "environment", "neither " + std::string(xdg_variable) + " nor HOME is set",
              std::string(xdg_variable) == "XDG_DATA_HOME" ? "set HOME, XDG_DATA_HOME or COG_IMAGE_STORE"
                                                           : "set HOME or XDG_CACHE_HOME");
}

}  // namespace

fs::path default_store_path(const EnvLookup& env) {
  if (const char* store = lookup(env, "COG_IMAGE_STORE")) return store;
  return xdg_dir(env, "XDG_DATA_HOME", ".local/share") / "images";
}

bool is_shared_store(const fs::path& root, const EnvLookup& env) {
  const fs::path shared = xdg_dir(env, "XDG_DATA_HOME", ".local/share") / "images";
  std::error_code error;
  if (fs::equivalent(root, shared, error)) return true;
  if (fs::exists(root, error) && fs::exists(shared, error)) return false;
  // One is not there yet (fs::equivalent needs both): compare the spellings.
  return fs::absolute(root).lexically_normal() == fs::absolute(shared).lexically_normal();
}

fs::path default_cache_root(const EnvLookup& env) { return xdg_dir(env, "XDG_CACHE_HOME", ".cache"); }

fs::path default_layer_cache_path(const EnvLookup& env) {
  if (const char* cache = lookup(env, "COG_LAYER_CACHE")) return cache;
  return default_cache_root(env) / "layers";
}

std::string normalize_image_name(std::string_view name) {
  if (name.empty()) {
    throw Error(ErrorKind::Usage, "image name", "empty image name", "pass a name like my-model");
  }
  std::string result(name);
  if (result.find('@') != std::string::npos) return result;
  // A ':' after the last '/' is a tag; one before it belongs to a registry host:port.
  auto slash = result.rfind('/');
  auto colon = result.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    result += ":latest";
  }
  return result;
}

ImageStore::ImageStore(const fs::path& root) : layout_(Layout::create(root)) {}

std::optional<Descriptor> ImageStore::find(std::string_view name) const {
  std::string normalized = normalize_image_name(name);
  if (auto found = layout_.find(normalized)) return found;
  // A bare digest ("sha256:...") or its unique prefix names an image too.
  for (const auto& tagged : layout_.list()) {
    const std::string digest = tagged.manifest.digest.str();
    if (name.size() >= 12 && (digest.starts_with(name) || tagged.manifest.digest.hex.starts_with(name))) {
      return tagged.manifest;
    }
  }
  return std::nullopt;
}

Descriptor ImageStore::resolve(std::string_view name) const {
  if (auto found = find(name)) return *found;
  throw Error(ErrorKind::NotFound, std::string(name),
              "no such image in the local store (" + layout_.root().string() + ")",
              "build it with `cog build -t " + std::string(name) + "` or list images with `cog images`");
}

void ImageStore::tag(std::string_view name, const Descriptor& manifest) {
  Descriptor clean = manifest;
  clean.annotations.clear();
  layout_.tag(normalize_image_name(name), clean);
}

std::vector<ImageSummary> ImageStore::list() const {
  std::vector<ImageSummary> images;
  for (const auto& tagged : layout_.list()) {
    ImageSummary summary;
    summary.name = tagged.name;
    summary.manifest_digest = tagged.manifest.digest;
    try {
      Manifest manifest = layout_.read_manifest(tagged.manifest.digest);
      summary.config_digest = manifest.config.digest;
      summary.size = manifest.config.size;
      for (const auto& layer : manifest.layers) summary.size += layer.size;
      summary.created = layout_.read_config(manifest).created;
    } catch (const Error&) {
      // A damaged entry is still listed so that it can be removed.
    }
    images.push_back(std::move(summary));
  }
  return images;
}

bool ImageStore::remove(std::string_view name) {
  std::string normalized = normalize_image_name(name);
  if (!layout_.untag(normalized)) {
    auto found = find(name);
    if (!found) return false;
    layout_.untag(found->annotations.at(ref_name_annotation));
  }
  layout_.collect_garbage();
  return true;
}

}  // namespace cog::builder::oci
