#pragma once
// COG_SDK_WHEEL and COGLET_WHEEL (reference §3.6): Cog installs the cog / coglet wheel they name.
// Our images run this cog's own runtime (C++ server and worker, runtime/python's cog package), so
// a wheel is never installed; the settings are still read as Cog reads them, so that a path that
// does not exist is the same error, and what was asked for can be reported (docs/building.md).
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

// One line for --debug and the build's note: what was asked, and that this cog's runtime is used.
std::string describe_wheel_setting(const WheelSetting& setting);

}  // namespace cog::builder::plan
