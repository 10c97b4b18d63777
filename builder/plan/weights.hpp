#pragma once
// Weight detection for --separate-weights (reference §3.8): large non-code files of a project,
// grouped by top-level directory, so they can live in their own image and cache layer.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cog::builder::plan {

struct WeightPaths {
  std::vector<std::string> dirs;   // project-relative, '/'-separated, sorted
  std::vector<std::string> files;  // project-relative, '/'-separated, sorted

  bool empty() const { return dirs.empty() && files.empty(); }
};

// Files smaller than this are never weights.
inline constexpr std::uintmax_t kWeightMinSize = 10 * 1024 * 1024;

// Walks the project (skipping .git, .cog, __pycache__). Weight files in the project root are
// listed one by one; elsewhere their directory is the entry (the shallowest one), and a directory
// that also holds code (.py, .ipynb, .whl) is left out: its files stay with the source, as in Cog.
WeightPaths find_weights(const std::filesystem::path& project_dir);

// The patterns that keep weights out of the runner's build context: `dir`, `dir/**/*`, `file`.
std::vector<std::string> weights_exclude_patterns(const WeightPaths& weights);

}  // namespace cog::builder::plan
