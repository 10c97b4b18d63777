#pragma once
// COG_SDK_WHEEL and COGLET_WHEEL (reference §3.6), read as Cog reads them (a path that does not
// exist is the same error). Unset, an image runs this cog's own runtime (C++ server and worker,
// runtime/python's cog package); set, they are the escape hatch: the image installs the cog SDK
// (and coglet) they name and runs Cog's own server, `python -m cog.server.http`
// (builder/pipeline/wheel_phase.hpp, docs/building.md).
#include <filesystem>
#include <string>

namespace cog::builder::plan {

struct WheelSetting {
  std::string variable;  // COG_SDK_WHEEL or COGLET_WHEEL
  std::string value;     // as set; empty: not set
  // pypi, pypi-version, url, file (path: the wheel), dist (path: the wheel found in a dist/)
  std::string kind;
  std::filesystem::path path;
};

// Reads one setting. `package` is the wheel's distribution name ("cog" or "coglet"), looked for as
// <package>-*.whl in a directory or dist/ (the project's, then the current directory's). Throws
// cog::Error(NotFound) naming the path for a path that does not exist ("path not found") or a
// directory without such a wheel.
WheelSetting read_wheel_setting(const std::string& variable, const std::string& value, const std::string& package,
                                const std::filesystem::path& project_dir);

// Both settings from the environment.
WheelSetting sdk_wheel_setting(const std::filesystem::path& project_dir);
WheelSetting coglet_wheel_setting(const std::filesystem::path& project_dir);

// Whether the image runs Cog's own runtime: either variable is set.
bool uses_cog_runtime(const WheelSetting& sdk, const WheelSetting& coglet);

// What pip is given for a setting: `package` (pypi), `package==<ver>` (pypi:<ver>), the URL, or
// `local_path` for a file or dist wheel (the path it has inside the build step). For the SDK with
// COG_SDK_WHEEL unset, build.sdk_version's pin (`sdk_version`, "" = the latest release); for
// coglet unset, "" (cog ≥ 0.17 depends on coglet and brings it).
std::string wheel_requirement(const WheelSetting& setting, const std::string& package, const std::string& local_path,
                              const std::string& sdk_version = "");

// A coglet wheel from a file or URL: Cog then sets R8_COG_VERSION=coglet and R8_PYTHON_VERSION.
bool is_coglet_artifact(const WheelSetting& coglet);

// One line for --debug and the build's note: what was asked, and which runtime the image runs.
std::string describe_wheel_setting(const WheelSetting& setting, bool cog_runtime);

}  // namespace cog::builder::plan
