#include "builder/plan/wheels.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::plan {
namespace {

// The newest-named <package>-*.whl in `dir` ("coglet-…" is not a "cog-…" wheel: the name is
// followed by a dash and a version), or empty.
fs::path wheel_in(const fs::path& dir, const std::string& package) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(package + "-") && name.ends_with(".whl") && entry.is_regular_file(ec)) {
      found.push_back(entry.path());
    }
  }
  if (found.empty()) return {};
  std::sort(found.begin(), found.end());
  return found.back();
}

fs::path expand_home(const std::string& value) {
  if (value == "~" || value.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/root") / value.substr(value.size() > 1 ? 2 : 1);
  }
  return value;
}

}  // namespace

WheelSetting read_wheel_setting(const std::string& variable, const std::string& value, const std::string& package,
                                const fs::path& project_dir) {
  WheelSetting setting{variable, value, "", {}};
  if (value.empty()) return setting;
  if (value == "pypi") {
    setting.kind = "pypi";
  } else if (value.starts_with("pypi:")) {
    setting.kind = "pypi-version";
  } else if (value.starts_with("https://") || value.starts_with("http://")) {
    setting.kind = "url";
  } else if (value == "dist") {
    setting.kind = "dist";
    for (const fs::path& dir : {project_dir / "dist", fs::current_path() / "dist"}) {
      setting.path = wheel_in(dir, package);
      if (!setting.path.empty()) break;
    }
    if (setting.path.empty()) {
      throw Error(ErrorKind::NotFound, variable + "=dist",
                  "no " + package + "-*.whl in " + (project_dir / "dist").string(),
                  "build the wheel into dist/, or set " + variable + " to a wheel's path, pypi or pypi:<version>");
    }
  } else {
    const fs::path path = expand_home(value);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw Error(ErrorKind::NotFound, variable, "path not found: " + path.string(),
                  "set " + variable + " to an existing wheel or directory, pypi, pypi:<version> or an https:// URL");
    }
    setting.kind = "file";
    setting.path = path;
    if (fs::is_directory(path, ec)) {
      setting.path = wheel_in(path, package);
      if (setting.path.empty()) {
        throw Error(ErrorKind::NotFound, variable, "no " + package + "-*.whl in " + path.string(),
                    "put the wheel there, or set " + variable + " to the wheel file itself");
      }
    }
  }
  return setting;
}

WheelSetting sdk_wheel_setting(const fs::path& project_dir) {
  const char* value = std::getenv("COG_SDK_WHEEL");
  return read_wheel_setting("COG_SDK_WHEEL", value ? value : "", "cog", project_dir);
}

WheelSetting coglet_wheel_setting(const fs::path& project_dir) {
  const char* value = std::getenv("COGLET_WHEEL");
  return read_wheel_setting("COGLET_WHEEL", value ? value : "", "coglet", project_dir);
}

bool uses_cog_runtime(const WheelSetting& sdk, const WheelSetting& coglet) {
  return !sdk.value.empty() || !coglet.value.empty();
}

std::string wheel_requirement(const WheelSetting& setting, const std::string& package, const std::string& local_path,
                              const std::string& sdk_version) {
  if (setting.value.empty()) {
    if (package != "cog") return "";
    return sdk_version.empty() ? package : package + "==" + sdk_version;
  }
  if (setting.kind == "pypi") return package;
  if (setting.kind == "pypi-version") return package + "==" + setting.value.substr(5);
  if (setting.kind == "url") return setting.value;
  return local_path;
}

bool is_coglet_artifact(const WheelSetting& coglet) {
  return coglet.kind == "url" || coglet.kind == "file" || coglet.kind == "dist";
}

std::string describe_wheel_setting(const WheelSetting& setting, bool cog_runtime) {
  const std::string ours = "this cog's own runtime (cog-server, cog-worker, runtime/python's cog package)";
  const std::string cogs = "Cog's own server (python -m cog.server.http)";
  const std::string package = setting.variable == "COGLET_WHEEL" ? "coglet" : "cog";
  if (setting.value.empty()) {
    if (!cog_runtime) return setting.variable + " is not set: the image runs " + ours;
    return setting.variable + " is not set: " +
           (package == "cog" ? "the image installs cog from PyPI (build.sdk_version's pin, else the latest)"
                             : "coglet comes as the cog SDK's dependency") +
           " and runs " + cogs;
  }
  const std::string used = setting.path.empty() ? setting.value : setting.path.string();
  return setting.variable + "=" + setting.value + ": the image installs " + package + " from " + used + " and runs " +
         cogs;
}

}  // namespace cog::builder::plan
