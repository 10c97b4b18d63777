#include "runtime/local/project.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "builder/support/error.hpp"

namespace cog::runtime::local {

namespace fs = std::filesystem;

LocalProject load_local_project(const fs::path& start, const std::string& file_name) {
  fs::path dir = fs::absolute(start);
  fs::path config_path;
  for (int level = 0; level < 100; ++level) {
    if (fs::exists(dir / file_name)) {
      config_path = dir / file_name;
      break;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  if (config_path.empty()) {
    throw Error(ErrorKind::NotFound, file_name,
                file_name + " not found in " + fs::absolute(start).string() + " (or in any parent directories)",
                "run `cog init` to create one");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(config_path.string());
  } catch (const YAML::Exception& error) {
    throw Error(ErrorKind::Parse, config_path.string(), error.what());
  }
  LocalProject project;
  project.dir = config_path.parent_path();
  if (root["run"] && root["run"].IsScalar()) project.run_ref = root["run"].as<std::string>();
  else if (root["predict"] && root["predict"].IsScalar()) project.run_ref = root["predict"].as<std::string>();
  if (root["train"] && root["train"].IsScalar()) project.train_ref = root["train"].as<std::string>();
  if (root["concurrency"] && root["concurrency"]["max"]) project.max_concurrency = root["concurrency"]["max"].as<int>(0);
  if (const auto env = root["environment"]; env && env.IsSequence()) {
    for (const auto& item : env) {
      const std::string entry = item.as<std::string>("");
      const auto eq = entry.find('=');
      if (eq != std::string::npos) project.environment.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
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
      "'" + python + "' -c 'import json, site, sys; print(json.dumps({\"version\": \"%d.%d\" % sys.version_info[:2], "
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
