#include "builder/exec/debian_base.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "builder/exec/host_command.hpp"
#include "builder/exec/unique_fd.hpp"
#include "builder/oci/digest.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// Bump when the way a base is made changes, so old cache entries are not reused.
constexpr int base_format = 3;

const std::vector<std::string> fixed_packages = {"ca-certificates", "tini"};
const std::vector<std::string> python_packages = {"python3", "python3-pip", "python3-venv"};

DebianSuite suite_for(const BaseRequest& request) {
  return request.with_python ? suite_for_python(request.python_version) : python_suites().front();
}

std::string upstream_version(std::string version) {
  if (auto colon = version.find(':'); colon != std::string::npos) version.erase(0, colon + 1);
  if (auto dash = version.rfind('-'); dash != std::string::npos) version.erase(dash);
  return version;
}

// Holds an flock on `file` for as long as it lives.
class FileLock {
 public:
  explicit FileLock(const fs::path& file) : fd_(open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (!fd_) throw Error(ErrorKind::Io, file.string(), std::strerror(errno));
    while (flock(fd_.get(), LOCK_EX) != 0)
      if (errno != EINTR) throw Error(ErrorKind::Io, file.string(), std::strerror(errno));
  }

 private:
  UniqueFd fd_;
};

std::string python_of(const std::vector<InstalledPackage>& packages, const DebianSuite& suite) {
  const std::string name = "python" + suite.python_version;
  for (const auto& package : packages)
    if (package.name == name) return upstream_version(package.version);
  return {};
}

// A requested patch level must be the packaged one: a different interpreter is never substituted.
void check_patch_level(const std::string& requested, const std::string& installed, const DebianSuite& suite) {
  if (installed.empty())
    throw Error(ErrorKind::Runtime, "debian base",
                "python" + suite.python_version + " is missing from the " + suite.name + " base");
  if (requested != major_minor(requested) && requested != installed)
    throw Error(ErrorKind::Compatibility, "build.python_version",
                "Python " + requested + " is not available: Debian " + suite.name + " packages " + installed,
                "set build.python_version to \"" + suite.python_version + "\" or \"" + installed + "\"");
}

nlohmann::json describe(const DebianBase& base, const BaseRequest& request, const DebianSuite& suite) {
  nlohmann::json packages = nlohmann::json::array();
  for (const auto& package : base.packages) packages.push_back({{"name", package.name}, {"version", package.version}});
  return {{"format", base_format},
          {"suite", base.suite},
          {"arch", request.arch},
          {"mirror", request.mirrors.archive},
          {"python_version", base.python_version},
          {"requested_packages", base_packages(request, suite)},
          {"packages", packages}};
}

void bootstrap(const BaseRequest& request, const DebianSuite& suite, const fs::path& rootfs, const fs::path& deb_cache,
               const LineSink& progress) {
  std::string include;
  for (const auto& package : base_packages(request, suite)) include += (include.empty() ? "" : ",") + package;
  HostCommand command;
  command.argv = {"debootstrap",
                  "--variant=minbase",
                  "--arch=" + request.arch,
                  "--include=" + include,
                  "--cache-dir=" + deb_cache.string(),
                  suite.name,
                  rootfs.string(),
                  request.mirrors.archive};
  command.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8",
                 "DEBIAN_FRONTEND=noninteractive",
                 // Python compiles its .pyc files hash-checked (reproducible) when this is set.
                 "SOURCE_DATE_EPOCH=0"};
  command.limits = request.limits;
  auto status = run_host_command(command, progress);
  if (status.cancelled) throw Error(ErrorKind::Runtime, "debootstrap", "cancelled");
  if (!status.ok())
    throw Error(ErrorKind::Runtime, "debootstrap " + suite.name,
                status.timed_out ? "timed out" : "failed with exit code " + std::to_string(status.exit_code),
                "check that " + request.mirrors.archive + " is reachable (its output is above)");
}

}  // namespace

fs::path default_base_cache() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "cog" / "bases";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".cache" / "cog" / "bases";
}

std::vector<std::string> base_packages(const BaseRequest& request, const DebianSuite& suite) {
  std::vector<std::string> packages = fixed_packages;
  if (request.with_python) {
    packages.insert(packages.end(), python_packages.begin(), python_packages.end());
    packages.push_back("libpython" + suite.python_version);
  }
  packages.insert(packages.end(), request.extra_packages.begin(), request.extra_packages.end());
  std::sort(packages.begin(), packages.end());
  packages.erase(std::unique(packages.begin(), packages.end()), packages.end());
  return packages;
}

std::string base_key(const BaseRequest& request, const DebianSuite& suite) {
  nlohmann::json inputs = {{"format", base_format},
                           {"suite", suite.name},
                           {"arch", request.arch},
                           {"mirror", request.mirrors.archive},
                           {"security_mirror", request.mirrors.security},
                           {"packages", base_packages(request, suite)}};
  return oci::sha256_of(inputs.dump()).hex;
}

DebianBase ensure_debian_base(const BaseRequest& request, const LineSink& progress) {
  const auto started = Clock::now();
  const DebianSuite suite = suite_for(request);
  const fs::path cache = request.cache_root.empty() ? default_base_cache() : request.cache_root;
  DebianBase base;
  base.suite = suite.name;
  base.key = base_key(request, suite);
  const fs::path dir = cache / (suite.name + "-" + request.arch + "-" + base.key.substr(0, 16));
  base.rootfs = dir / "rootfs";
  fs::create_directories(cache);
  FileLock lock(dir.string() + ".lock");

  if (!fs::exists(dir / "base.json")) {
    const fs::path partial = dir.string() + ".partial";
    const fs::path deb_cache = cache / "debs" / (suite.name + "-" + request.arch);
    fs::remove_all(partial);  // left by a build that was killed
    fs::create_directories(partial);
    fs::create_directories(deb_cache);
    if (progress)
      progress(Stream::Stderr, "debootstrap " + suite.name + " (" + request.arch + ") from " + request.mirrors.archive);
    bootstrap(request, suite, partial / "rootfs", deb_cache, progress);
    make_rootfs_reproducible(partial / "rootfs", suite, request.mirrors);
    base.packages = installed_packages(partial / "rootfs");
    if (request.with_python) base.python_version = python_of(base.packages, suite);
    std::ofstream(partial / "base.json") << describe(base, request, suite).dump(2) << "\n";
    fs::remove_all(dir);
    fs::rename(partial, dir);
    base.built = true;
  } else {
    base.packages = installed_packages(base.rootfs);
    if (request.with_python) base.python_version = python_of(base.packages, suite);
  }
  if (request.with_python) check_patch_level(request.python_version, base.python_version, suite);
  base.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return base;
}

}  // namespace cog::builder::exec
