#pragma once
// OCI content descriptors and the media types we read and write (OCI and Docker schema 2).
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "builder/oci/digest.hpp"

namespace cog::builder::oci {

namespace media_type {
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* oci_empty = "application/vnd.oci.empty.v1+json";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* docker_layer_tar = "application/vnd.docker.image.rootfs.diff.tar";

bool is_manifest(std::string_view type);  // OCI or Docker single-platform manifest
bool is_index(std::string_view type);     // OCI index or Docker manifest list
bool is_layer(std::string_view type);
}  // namespace media_type

// Layer whiteout names (OCI image spec, "Whiteouts").
inline constexpr const char* whiteout_prefix = ".wh.";
inline constexpr const char* whiteout_opaque = ".wh..wh..opq";

// The annotation naming a manifest inside an OCI layout's index.json.
inline constexpr const char* ref_name_annotation = "org.opencontainers.image.ref.name";

struct Platform {
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string variant;  // empty = absent
  bool operator==(const Platform&) const = default;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  std::int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  bool operator==(const Descriptor&) const = default;
};

// JSON with OCI field names (mediaType, digest, size, annotations, platform).
nlohmann::json to_json(const Descriptor& descriptor);
Descriptor descriptor_from_json(const nlohmann::json& json);  // throws cog::Error(Parse)
nlohmann::json to_json(const Platform& platform);
Platform platform_from_json(const nlohmann::json& json);

}  // namespace cog::builder::oci
