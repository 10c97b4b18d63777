#pragma once
// Finding, reading and validating cog.yaml, exactly as Cog does: the JSON schema first (every
// field's shape), then the semantic rules (versions, references, environment, weights), with every
// problem located as `cog.yaml:LINE:COL` and reported together.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/config/config.hpp"
#include "support/error.hpp"

namespace cog::builder::config {

struct LoadedConfig {
  Config config;
  std::vector<cog::Warning> warnings;  // deprecations, ignored classic fields, stripped versions
};

// Walks up from start_dir (≤100 levels) to the first directory containing file_name and returns
// the file's path. Throws cog::Error(NotFound) "cog.yaml not found in <dir> (or in any parent
// directories)" when there is none.
std::filesystem::path find_config(const std::filesystem::path& start_dir, const std::string& file_name = "cog.yaml");

// Reads config_path and loads it (see load_config_text). Throws cog::Error(NotFound/Io) when the
// file cannot be read.
LoadedConfig load_config(const std::filesystem::path& config_path);

// Parses and validates yaml_text as if it were the file config_path; the project directory (where
// run/predict files and python_requirements are looked up) is config_path.parent_path().
// Throws cog::Error for a YAML syntax error, cog::Errors with every problem otherwise.
LoadedConfig load_config_text(std::string_view yaml_text, const std::filesystem::path& config_path);

}  // namespace cog::builder::config
