#pragma once
// Image config, manifest and index, with canonical JSON: keys sorted, no whitespace, absent
// optional fields omitted, so the same value always serialises to the same bytes (and digest).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "builder/oci/descriptor.hpp"

namespace cog::builder::oci {

struct HistoryEntry {
  std::string created;  // RFC 3339, empty = absent
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
  bool operator==(const HistoryEntry&) const = default;
};

// The runtime part of the config ("config" in the JSON).
struct RuntimeConfig {
  std::string user;
  std::vector<std::string> env;  // "NAME=value"
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "5000/tcp"
  std::vector<std::string> volumes;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool operator==(const RuntimeConfig&) const = default;

  // Sets NAME=value, replacing an existing NAME (order of first appearance is kept).
  void set_env(std::string_view name, std::string_view value);
  std::optional<std::string> get_env(std::string_view name) const;
};

struct ImageConfig {
  std::string created;  // RFC 3339; empty = absent
  std::string author;
  Platform platform;  // architecture / os / variant at top level
  RuntimeConfig config;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, bottom layer first
  std::vector<HistoryEntry> history;
  bool operator==(const ImageConfig&) const = default;
};

struct Manifest {
  std::string media_type = media_type::oci_manifest;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  bool operator==(const Manifest&) const = default;
};

struct Index {
  std::string media_type = media_type::oci_index;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  bool operator==(const Index&) const = default;
};

nlohmann::json to_json(const ImageConfig& config);
nlohmann::json to_json(const Manifest& manifest);
nlohmann::json to_json(const Index& index);

// Parsers accept Docker schema 2 equivalents; unknown fields are ignored. Throw cog::Error(Parse).
ImageConfig parse_image_config(std::string_view json_text);
Manifest parse_manifest(std::string_view json_text);
Index parse_index(std::string_view json_text);

// Compact, key-sorted JSON: the bytes that get hashed.
std::string canonical_json(const nlohmann::json& json);
std::string canonical_json(const ImageConfig& config);
std::string canonical_json(const Manifest& manifest);
std::string canonical_json(const Index& index);

// RFC 3339 UTC timestamp ("1970-01-01T00:00:00Z") for seconds since the epoch.
std::string rfc3339(std::int64_t seconds_since_epoch);

}  // namespace cog::builder::oci
