#include "builder/oci/descriptor.hpp"

#include <nlohmann/json.hpp>

#include "support/error.hpp"

namespace cog::builder::oci {

namespace media_type {
bool is_manifest(std::string_view type) { return type == oci_manifest || type == docker_manifest; }
bool is_index(std::string_view type) { return type == oci_index || type == docker_manifest_list; }
bool is_layer(std::string_view type) {
  return type == oci_layer_tar || type == oci_layer_gzip || type == oci_layer_zstd || type == docker_layer_gzip ||
         type == docker_layer_tar;
}
}  // namespace media_type

nlohmann::json to_json(const Platform& platform) {
  nlohmann::json json = {{"architecture", platform.architecture}, {"os", platform.os}};
  if (!platform.variant.empty()) json["variant"] = platform.variant;
  return json;
}

Platform platform_from_json(const nlohmann::json& json) {
  Platform platform;
  platform.architecture = json.value("architecture", "");
  platform.os = json.value("os", "");
  platform.variant = json.value("variant", "");
  return platform;
}

nlohmann::json to_json(const Descriptor& descriptor) {
  nlohmann::json json = {
      {"mediaType", descriptor.media_type}, {"digest", descriptor.digest.str()}, {"size", descriptor.size}};
  if (!descriptor.annotations.empty()) json["annotations"] = descriptor.annotations;
  if (descriptor.platform) json["platform"] = to_json(*descriptor.platform);
  return json;
}

Descriptor descriptor_from_json(const nlohmann::json& json) {
  try {
    Descriptor descriptor;
    descriptor.media_type = json.value("mediaType", "");
    descriptor.digest = Digest::parse(json.at("digest").get<std::string>());
    descriptor.size = json.at("size").get<std::int64_t>();
    if (descriptor.size < 0) throw Error(ErrorKind::Parse, "descriptor", "negative size");
    if (json.contains("annotations")) {
      descriptor.annotations = json.at("annotations").get<std::map<std::string, std::string>>();
    }
    if (json.contains("platform")) descriptor.platform = platform_from_json(json.at("platform"));
    return descriptor;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, "descriptor", e.what(), "the manifest or index is malformed");
  }
}

}  // namespace cog::builder::oci
