#include "builder/exec/install_steps.hpp"

#include <cstdlib>

#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

// Debian package names, optionally with `=version`, `:arch` or `/release`.
bool valid_package(const std::string& name) {
  if (name.empty() || name[0] == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
              c == '.' || c == '=' || c == ':' || c == '~' || c == '/' || c == '_';
    if (!ok) return false;
  }
  return true;
}

fs::path created(fs::path dir) {
  fs::create_directories(dir);
  return dir;
}

// Packages come in as "$@", never through the shell's parser.
const char* const apt_script = R"(set -e
apt-get update -qq
apt-get install -qqy "$@"
rm -f /var/cache/ldconfig/aux-cache /var/cache/debconf/*-old /var/lib/dpkg/*-old
for log in /var/log/dpkg.log /var/log/alternatives.log /var/log/apt/*; do
  if [ -f "$log" ]; then : > "$log"; fi
done
)";

}  // namespace

fs::path StepCaches::apt_cache(const std::string& suite, const std::string& arch) const {
  return root / "apt" / (suite + "-" + arch) / "cache";
}
fs::path StepCaches::apt_lists(const std::string& suite, const std::string& arch) const {
  return root / "apt" / (suite + "-" + arch) / "lists";
}
fs::path StepCaches::pip_cache() const { return root / "pip"; }

StepCaches default_step_caches() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return {fs::path(xdg) / "cog" / "step-caches"};
  const char* home = std::getenv("HOME");
  return {fs::path(home && *home ? home : "/root") / ".cache" / "cog" / "step-caches"};
}

std::vector<std::string> default_step_env(std::int64_t source_date_epoch) {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "HOME=/root",
          "LANG=C.UTF-8",
          "DEBIAN_FRONTEND=noninteractive",
          "PYTHONUNBUFFERED=1",
          "SOURCE_DATE_EPOCH=" + std::to_string(source_date_epoch)};
}

void trust_host_certificates(StepSpec& step, const fs::path& bundle) {
  if (bundle.empty()) return;
  const std::string target = "/run/cog/ca-certificates.crt";
  step.binds.push_back({bundle, target, true});
  for (const char* name : {"SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"})
    step.env.push_back(std::string(name) + "=" + target);
}

fs::path host_ca_bundle() {
  if (const char* file = std::getenv("SSL_CERT_FILE"); file && *file && fs::is_regular_file(file)) return file;
  const fs::path debian = "/etc/ssl/certs/ca-certificates.crt";
  return fs::is_regular_file(debian) ? debian : fs::path();
}

StepSpec apt_install_step(const std::vector<std::string>& packages, const StepCaches& caches, const std::string& suite,
                          const std::string& arch, std::int64_t source_date_epoch) {
  if (packages.empty()) throw Error(ErrorKind::Usage, "build.system_packages", "no packages to install");
  StepSpec step;
  step.argv = {"/bin/sh", "-c", apt_script, "apt-install"};
  for (const auto& package : packages) {
    if (!valid_package(package))
      throw Error(ErrorKind::Validation, "build.system_packages", "`" + package + "` is not a Debian package name",
                  "list package names such as `ffmpeg` or `libgl1`");
    step.argv.push_back(package);
  }
  step.env = default_step_env(source_date_epoch);
  step.binds.push_back({created(caches.apt_cache(suite, arch)), "/var/cache/apt", false});
  step.binds.push_back({created(caches.apt_lists(suite, arch)), "/var/lib/apt/lists", false});
  return step;
}

StepSpec pip_install_step(const fs::path& requirements_file, const StepCaches& caches, std::int64_t source_date_epoch) {
  if (!fs::is_regular_file(requirements_file))
    throw Error(ErrorKind::NotFound, requirements_file.string(), "requirements file not found");
  StepSpec step;
  step.argv = {"python3",
               "-m",
               "pip",
               "install",
               "--break-system-packages",
               "--root-user-action=ignore",
               "--disable-pip-version-check",
               "--no-warn-script-location",
               "--cache-dir",
               "/root/.cache/pip",
               "-r",
               "/tmp/cog-requirements.txt"};
  step.env = default_step_env(source_date_epoch);
  step.binds.push_back({created(caches.pip_cache()), "/root/.cache/pip", false});
  step.binds.push_back({requirements_file, "/tmp/cog-requirements.txt", true});
  return step;
}

}  // namespace cog::builder::exec
