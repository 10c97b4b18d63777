#pragma once
// `cog init`: the starter files of a new project.
#include <filesystem>
#include <functional>
#include <vector>
#include <string>

namespace cog::builder::config {

struct InitTemplate {
  std::string relative_path;
  std::string contents;
};

// Today's templates: cog.yaml with `run: "run.py:Runner"`, run.py, requirements.txt,
// .dockerignore and a GitHub workflow that pushes to Replicate.
const std::vector<InitTemplate>& init_templates();

// Writes every template that does not exist yet under `project_dir`; `report` hears
// "Creating <file>" or "Skipped existing <file>" for each, in order.
void write_init_templates(const std::filesystem::path& project_dir,
                          const std::function<void(const std::string&)>& report);

}  // namespace cog::builder::config
