#pragma once
// What `cog run --local` / `cog serve --local` need from a project: where it is, which runner to
// serve, and the binaries and Python to serve it with.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cog::runtime::local {

struct LocalProject {
  std::filesystem::path dir;                                     // the directory holding cog.yaml
  std::string run_ref;                                           // `run:` (or legacy `predict:`)
  std::string train_ref;                                         // `train:`
  int max_concurrency = 0;                                       // `concurrency.max`, 0 = unset
  std::vector<std::pair<std::string, std::string>> environment;  // `environment:`
  std::vector<std::string> warnings;                             // deprecations and the like, for the CLI to print
};

// Finds cog.yaml upward from `start` (≤100 levels), loads and validates it (builder/config), and
// keeps the fields above. Throws cog::Error / cog::Errors.
LocalProject load_local_project(const std::filesystem::path& start, const std::string& file_name);

struct RuntimeBinaries {
  std::string server;  // cog-server
  std::string worker;  // cog-worker
};

// $COG_SERVER_BIN / $COG_WORKER_BIN when set; otherwise next to the cog binary (an install), or in
// ../runtime/ from it (the build tree: build/cli/cog → build/runtime/cog-server). Throws when
// missing.
RuntimeBinaries locate_runtime(const std::filesystem::path& cog_exe);

// Checks that `python` has the version the worker embeds and returns its site-packages folders
// (added to the worker's PYTHONPATH, so a virtual environment's packages are importable).
// Throws cog::Error(Compatibility) naming both versions otherwise.
std::vector<std::string> python_site_paths(const std::string& python);

}  // namespace cog::runtime::local
