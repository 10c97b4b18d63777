#include "builder/doctor/project.hpp"

#include <charconv>

#include "builder/config/runner_reference.hpp"
#include "builder/config/yaml_tree.hpp"
#include "support/text_file.hpp"

namespace cog::builder::doctor {

namespace {

// The keys whose lines the checks point at.
const std::vector<std::vector<std::string>> kLocatedKeys = {
    {"run"},
    {"predict"},
    {"train"},
    {"build"},
    {"build", "python_packages"},
    {"build", "python_requirements"},
    {"build", "pre_install"},
    {"build", "run"},
    {"build", "python_version"},
    {"build", "gpu"},
    {"build", "cuda"},
    {"concurrency", "max"},
    {"tests"},
};

int key_line(const config::YamlTree& tree, const std::vector<std::string>& path) {
  support::InstancePath parent;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) parent.emplace_back(path[i]);
  if (!tree.node_at(parent).IsMap()) return 0;
  if (!config::child(tree.node_at(parent), path.back()).IsDefined()) return 0;
  return tree.locate_key(parent, path.back()).line;
}

}  // namespace

Location parse_location(const std::string& where) {
  Location location;
  location.file = where;
  // Split "file:line[:column]" from the right, keeping colons that belong to the file name.
  auto number_after = [](const std::string& text, std::size_t colon, int& value) {
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    auto [end, error] = std::from_chars(first, last, value);
    return error == std::errc() && end == last && value > 0;
  };
  std::size_t colon = where.rfind(':');
  int value = 0;
  if (colon == std::string::npos || !number_after(where, colon, value)) return location;
  std::string head = where.substr(0, colon);
  std::size_t before = head.rfind(':');
  int line = 0;
  if (before != std::string::npos && number_after(head, before, line)) {
    location.file = head.substr(0, before);
    location.line = line;
    location.column = value;
  } else {
    location.file = head;
    location.line = value;
  }
  return location;
}

int Project::line_of(const std::vector<std::string>& key_path) const {
  for (const auto& [path, line] : key_lines) {
    if (path == key_path) return line;
  }
  return 0;
}

const WrittenReference* Project::runner() const {
  for (const auto& reference : references) {
    if (reference.key != "train") return &reference;
  }
  return nullptr;
}

Project inspect_project(const std::filesystem::path& config_path) {
  Project project;
  project.config_path = config_path;
  project.dir = config_path.parent_path().empty() ? std::filesystem::path(".") : config_path.parent_path();
  project.config_label = config_path.filename().string();
  project.config_text = support::read_text_file(config_path);
  project.document = nlohmann::json::object();
  try {
    config::YamlTree tree(project.config_text, project.config_label);
    std::vector<Error> problems;
    nlohmann::json document = tree.to_json(problems);
    if (!problems.empty()) {
      project.parse_error = problems.front();
    } else if (document.is_object()) {
      project.document = document;
      for (const auto& path : kLocatedKeys) project.key_lines.emplace_back(path, key_line(tree, path));
    }
  } catch (const Error& error) {
    project.parse_error = error;
  }
  if (project.parse_error) return project;

  for (const char* key : {"run", "predict", "train"}) {
    auto value = project.document.find(key);
    if (value == project.document.end() || !value->is_string()) continue;
    WrittenReference reference;
    reference.key = key;
    reference.text = value->get<std::string>();
    reference.line = project.line_of({key});
    if (auto parsed = config::parse_runner_reference(reference.text)) {
      reference.file = parsed->file;
      reference.name = parsed->name;
    }
    project.references.push_back(reference);
  }

  try {
    project.loaded = config::load_config_text(project.config_text, config_path);
  } catch (const Errors& errors) {
    project.load_errors = errors.all();
  } catch (const Error& error) {
    project.load_errors.push_back(error);
  }
  return project;
}

}  // namespace cog::builder::doctor
