#pragma once
// What the phases of load_config share: the located tree, the typed JSON view of it, and the
// problems found so far (all of them are reported at the end, mold style). Internal.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "builder/config/config.hpp"
#include "builder/config/yaml_tree.hpp"
#include "support/error.hpp"

namespace cog::builder::config {

struct LoadContext {
  const YamlTree& tree;
  const nlohmann::json& document;     // the file as JSON (an object once the schema passed)
  std::filesystem::path project_dir;  // where run/predict files and requirements live
  std::vector<Error> errors;
  std::vector<Location> error_locations;  // parallel to errors: to report them in file order
  std::vector<Warning> warnings;
  std::vector<Location> warning_locations;  // parallel to warnings

  void fail(ErrorKind kind, const Location& where, std::string what, std::string fix) {
    add(Error(kind, where, std::move(what), std::move(fix)), where);
  }
  void add(Error error, const Location& where) {
    errors.push_back(std::move(error));
    error_locations.push_back(where);
  }
  // The errors ordered as the user reads them: cog.yaml top to bottom, then other files.
  std::vector<Error> errors_in_file_order() const;
  void warn(const Location& where, std::string what, std::string fix = {}) {
    warnings.push_back({where.str(), std::move(what), std::move(fix)});
    warning_locations.push_back(where);
  }
  // The warnings ordered top to bottom in the file.
  std::vector<Warning> warnings_in_file_order() const;
  // Where the value at path is (or the key introducing it, or its nearest parent).
  Location at(const support::InstancePath& path) const { return tree.locate(path); }
  // Where the key `name` of the mapping at path is.
  Location at_key(const support::InstancePath& path, const std::string& name) const {
    return tree.locate_key(path, name);
  }
  // The scalar text at path as written (`3.10` stays "3.10"); empty when not a scalar.
  std::string text_at(const support::InstancePath& path) const { return scalar_text(tree.node_at(path)); }
};

// The member `key` of an object, or nullptr when it is absent, null, or object is not an object.
inline const nlohmann::json* member(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// The phases, in the order load_config runs them. Each reads only values of the right shape, so
// a field the schema rejected is reported once, by the schema phase.
void check_schema(LoadContext& context);
void read_build(LoadContext& context, Config& config);
void read_runner_references(LoadContext& context, Config& config);
void read_image_and_model(LoadContext& context, Config& config);
void read_concurrency(LoadContext& context, Config& config);
void read_environment(LoadContext& context, Config& config);
void read_weights(LoadContext& context, Config& config);
void read_requirements(LoadContext& context, Config& config);
void warn_deprecations(LoadContext& context, const Config& config);

}  // namespace cog::builder::config
