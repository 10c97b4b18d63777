#include "builder/config/load.hpp"

#include <algorithm>
#include <fstream>
#include <tuple>
#include <sstream>

#include "builder/config/load_context.hpp"

namespace cog::builder::config {

namespace {

// Cog stops walking up after this many parent directories.
constexpr int kMaxParentLevels = 100;

}  // namespace

// Reorders items by their locations: this file top to bottom, then other files; stable.
template <typename Item>
std::vector<Item> in_file_order(const std::vector<Item>& items, const std::vector<Location>& locations,
                                const std::string& file_label) {
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key = [&](std::size_t i) {
    const Location& where = locations[i];
    return std::make_tuple(where.file != file_label, where.line, where.column);
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<Item> sorted;
  for (std::size_t i : order) sorted.push_back(items[i]);
  return sorted;
}

std::vector<Error> LoadContext::errors_in_file_order() const {
  return in_file_order(errors, error_locations, tree.file_label());
}

std::vector<Warning> LoadContext::warnings_in_file_order() const {
  return in_file_order(warnings, warning_locations, tree.file_label());
}

std::filesystem::path find_config(const std::filesystem::path& start_dir, const std::string& file_name) {
  std::error_code error;
  std::filesystem::path dir = std::filesystem::absolute(start_dir, error);
  if (error) dir = start_dir;
  dir = dir.lexically_normal();
  if (dir.has_filename() == false && dir.has_parent_path() && dir != dir.root_path()) dir = dir.parent_path();
  std::filesystem::path start = dir;
  for (int level = 0; level <= kMaxParentLevels; ++level) {
    std::filesystem::path candidate = dir / file_name;
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
    if (!dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  throw Error(ErrorKind::NotFound, "",
              file_name + " not found in " + start.string() + " (or in any parent directories)",
              "run this command in a Cog project, or create one with `cog init`");
}

LoadedConfig load_config(const std::filesystem::path& config_path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(config_path, error)) {
    throw Error(ErrorKind::NotFound, config_path.string(), "file does not exist",
                "run this command in a Cog project, or pass the file with -f");
  }
  std::ifstream stream(config_path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  if (!stream && !stream.eof()) {
    throw Error(ErrorKind::Io, config_path.string(), "cannot read the file", "check its permissions");
  }
  return load_config_text(text.str(), config_path);
}

LoadedConfig load_config_text(std::string_view yaml_text, const std::filesystem::path& config_path) {
  std::string label = config_path.filename().string();
  if (label.empty()) label = "cog.yaml";
  YamlTree tree(std::string(yaml_text), label);  // throws a located Parse error for bad YAML

  std::vector<Error> conversion_errors;
  nlohmann::json document = tree.to_json(conversion_errors);
  if (!conversion_errors.empty()) throw Errors(std::move(conversion_errors));

  std::filesystem::path project_dir = config_path.parent_path();
  if (project_dir.empty()) project_dir = ".";
  LoadContext context{tree, document, project_dir, {}, {}, {}, {}};
  LoadedConfig loaded;
  Config& config = loaded.config;
  config.project_dir = project_dir;
  config.config_path = config_path;

  check_schema(context);
  if (document.is_object()) {
    read_build(context, config);
    read_runner_references(context, config);
    read_image_and_model(context, config);
    read_concurrency(context, config);
    read_environment(context, config);
    read_weights(context, config);
    read_requirements(context, config);
    warn_deprecations(context, config);
  }
  if (!context.errors.empty()) throw Errors(context.errors_in_file_order());
  loaded.warnings = context.warnings_in_file_order();
  return loaded;
}

}  // namespace cog::builder::config
