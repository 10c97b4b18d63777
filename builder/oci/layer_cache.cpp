#include "builder/oci/layer_cache.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "builder/oci/files.hpp"
#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;

LayerCache::LayerCache(fs::path dir, const Layout& blobs) : dir_(std::move(dir)), blobs_(blobs) {}

fs::path LayerCache::entry_path(std::string_view key) const {
  bool valid = !key.empty() && key.size() <= 200;
  for (char c : key) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                   c == '-' || c == ':';
    valid = valid && allowed;
  }
  if (!valid || key.starts_with('.')) {
    throw Error(ErrorKind::Usage, "layer cache", "invalid cache key '" + std::string(key) + "'",
                "use a digest such as sha256:<hex>");
  }
  std::string name(key);
  std::replace(name.begin(), name.end(), ':', '-');
  return dir_ / (name + ".json");
}

std::optional<StoredLayer> LayerCache::lookup(std::string_view key) const {
  fs::path path = entry_path(key);
  if (!fs::exists(path)) return std::nullopt;
  try {
    auto json = nlohmann::json::parse(files::read(path));
    StoredLayer layer{descriptor_from_json(json.at("descriptor")),
                      Digest::parse(json.at("diff_id").get<std::string>())};
    if (!blobs_.has_blob(layer.descriptor.digest)) return std::nullopt;  // collected since
    return layer;
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged entry is a miss; store() will overwrite it
  }
}

void LayerCache::store(std::string_view key, const StoredLayer& layer) {
  fs::path path = entry_path(key);
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) throw Error(ErrorKind::Io, dir_.string(), error.message(), "check permissions");
  nlohmann::json json = {{"descriptor", to_json(layer.descriptor)}, {"diff_id", layer.diff_id.str()}};
  files::write_atomic(path, json.dump());
}

void LayerCache::remove(std::string_view key) {
  std::error_code error;
  fs::remove(entry_path(key), error);
}

}  // namespace cog::builder::oci
