#pragma once
// cog.yaml as yaml-cpp parsed it, seen two ways: as JSON (for the schema) and as located nodes (so
// every error can name `cog.yaml:LINE:COL`). Internal to the loader.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "support/error.hpp"
#include "support/json_schema.hpp"

namespace cog::builder::config {

class YamlTree {
 public:
  // Parses text; a YAML syntax error becomes cog::Error(Parse) at the offending line:column.
  // An empty document (or only comments) is an empty mapping, as in Cog.
  YamlTree(const std::string& text, std::string file_label);

  const YAML::Node& root() const { return root_; }
  const std::string& file_label() const { return file_label_; }

  // The document as JSON, with YAML 1.2 core-schema typing of plain scalars (`true`, `3.12`,
  // `null`, `~`) and quoted scalars kept as strings. Problems JSON cannot represent (duplicate
  // keys, non-scalar keys, documents too deep or too large after alias expansion) are appended
  // to errors.
  nlohmann::json to_json(std::vector<Error>& errors) const;

  // Location of a node (1-based). Nodes without a mark (the empty document) point at line 1.
  Location at(const YAML::Node& node) const;
  // The node at an instance path; an undefined node when the path does not exist.
  YAML::Node node_at(const support::InstancePath& path) const;
  // Where to point for a path: the value's position, or (when the value is missing or null) the
  // key that introduces it, or the nearest existing parent.
  Location locate(const support::InstancePath& path) const;
  // The position of key `name` inside the mapping at path (for "unknown field" errors).
  Location locate_key(const support::InstancePath& path, const std::string& name) const;

 private:
  YAML::Node root_;
  std::string file_label_;
};

// The scalar text of a node as written (`3.10` stays "3.10"); empty for non-scalars.
std::string scalar_text(const YAML::Node& node);
// A mapping's value for key, without inserting (yaml-cpp's non-const operator[] would).
YAML::Node child(const YAML::Node& mapping, const std::string& key);
// The key node of a mapping entry, for its position.
YAML::Node key_node(const YAML::Node& mapping, const std::string& key);

}  // namespace cog::builder::config
