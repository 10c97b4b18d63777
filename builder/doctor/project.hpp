#pragma once
// What `cog doctor` looks at, read once per check: cog.yaml as text, as a raw document (so the
// Python checks still find the runner when validation fails), and as `cog build` loads it.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "builder/config/load.hpp"
#include "support/error.hpp"

namespace cog::builder::doctor {

// A runner reference as written in cog.yaml: `run: "run.py:Runner"`, `predict: …`, `train: …`.
struct WrittenReference {
  std::string key;   // "run", "predict" or "train"
  std::string text;  // "predict.py:Predictor"
  std::string file;  // "predict.py" (empty when the text is malformed)
  std::string name;  // "Predictor"
  int line = 0;      // of the key in cog.yaml
};

struct Project {
  std::filesystem::path dir;          // the directory holding cog.yaml
  std::filesystem::path config_path;  // cog.yaml itself
  std::string config_label;           // "cog.yaml", for locations
  std::string config_text;

  std::optional<cog::Error> parse_error;  // YAML syntax (or a document JSON cannot hold)
  nlohmann::json document;                // the raw document; an empty object when unparsable
  // Line of a key path in cog.yaml ({"build", "python_packages"}); 0 when absent.
  std::vector<std::pair<std::vector<std::string>, int>> key_lines;

  std::optional<config::LoadedConfig> loaded;  // as `cog build` loads it, when that succeeds
  std::vector<cog::Error> load_errors;         // otherwise, every problem it reported

  std::vector<WrittenReference> references;  // run/predict, then train, as written

  int line_of(const std::vector<std::string>& key_path) const;
  // The run (or predict) reference, when cog.yaml has one.
  const WrittenReference* runner() const;
};

// Reads the project around config_path. Never throws for a bad cog.yaml: problems are recorded.
Project inspect_project(const std::filesystem::path& config_path);

// "cog.yaml:4:3" → {cog.yaml, 4, 3}; text without a line stays the file.
Location parse_location(const std::string& where);

}  // namespace cog::builder::doctor
