#include "runtime/local/project.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "builder/config/load.hpp"
#include "support/error.hpp"

namespace cog::runtime::local {

namespace fs = std::filesystem;

LocalProject load_local_project(const fs::path& start, const std::string& file_name) {
  // The config engineer's loader: schema + semantic checks, errors located as cog.yaml:LINE:COL.
  const auto loaded = builder::config::load_config(builder::config::find_config(start, file_name));
  const auto& config = loaded.config;
  LocalProject project;
  project.dir = config.project_dir;
  project.run_ref = config.run;
  project.train_ref = config.train;
  if (config.concurrency) project.max_concurrency = config.concurrency->max;
  project.environment = config.environment;
  for (const auto& warning : loaded.warnings) project.warnings.push_back(warning.describe());
  return project;
}

RuntimeBinaries locate_runtime(const fs::path& cog_exe) {
  auto pick = [&](const char* env_name, const char* name) {
    if (const char* value = std::getenv(env_name); value && *value) return std::string(value);
    const fs::path dir = cog_exe.parent_path();
    for (const fs::path& candidate : {dir / name, dir.parent_path() / "runtime" / name}) {
      if (fs::exists(candidate)) return candidate.string();
    }
    throw Error(ErrorKind::NotFound, name, std::string("cannot find ") + name + " next to " + cog_exe.string(),
                std::string("build the runtime targets, or set ") + env_name + " to its path");
  };
  return {pick("COG_SERVER_BIN", "cog-server"), pick("COG_WORKER_BIN", "cog-worker")};
}

std::vector<std::string> python_site_paths(const std::string& python) {
  const std::string command =
      "'" + python +
      "' -c 'import json, site, sys; print(json.dumps({\"version\": \"%d.%d\" % sys.version_info[:2], "
      "\"paths\": site.getsitepackages()}))' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  std::string text;
  if (pipe) {
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe.get())) text += buffer.data();
  }
  const auto info = nlohmann::json::parse(text, nullptr, false);
  if (!info.is_object()) {
    throw Error(ErrorKind::NotFound, "--python", "cannot run " + python, "pass the path of a Python interpreter");
  }
  const std::string version = info.value("version", "");
  if (version != COG_EMBEDDED_PYTHON_VERSION) {
    throw Error(ErrorKind::Compatibility, "--python",
                python + " is Python " + version + ", but cog-worker embeds Python " + COG_EMBEDDED_PYTHON_VERSION,
                "use a Python " + std::string(COG_EMBEDDED_PYTHON_VERSION) +
                    " interpreter (a virtual environment made from it works), or rebuild with -DCOG_PYTHON=" + python);
  }
  return info.value("paths", std::vector<std::string>{});
}

}  // namespace cog::runtime::local
