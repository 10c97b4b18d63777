#pragma once
// The package steps of a Cog build as sandboxed steps: `apt-get install` of system_packages and
// `pip install -r requirements.txt`. Their download caches are host directories bound into the
// step, so repeated builds reuse them and no layer carries them.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/exec/sandbox.hpp"

namespace cog::builder::exec {

// Host directories for step caches, all under one root (default
// ${XDG_CACHE_HOME:-$HOME/.cache}/cog/step-caches). Apt caches are per suite and architecture.
struct StepCaches {
  std::filesystem::path root;

  std::filesystem::path apt_cache(const std::string& suite, const std::string& arch) const;
  std::filesystem::path apt_lists(const std::string& suite, const std::string& arch) const;
  std::filesystem::path pip_cache() const;
};

StepCaches default_step_caches();

// What every build step sees unless the plan adds to it (PATH, HOME, LANG,
// DEBIAN_FRONTEND=noninteractive, PYTHONUNBUFFERED=1, SOURCE_DATE_EPOCH).
std::vector<std::string> default_step_env(std::int64_t source_date_epoch);

// Lets a step verify TLS with the host's trust store (the host may reach PyPI only through a
// proxy with its own certificate authority): `bundle` is bound read-only at
// /run/cog/ca-certificates.crt, which SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE and
// CURL_CA_BUNDLE then name. The image's own trust store is not touched.
void trust_host_certificates(StepSpec& step, const std::filesystem::path& bundle);

// The host's CA bundle: $SSL_CERT_FILE when it names a file, else Debian's
// /etc/ssl/certs/ca-certificates.crt; empty when neither exists.
std::filesystem::path host_ca_bundle();

// `apt-get update && apt-get install -qqy <packages>`, as Cog's Dockerfile does, with
// /var/cache/apt and /var/lib/apt/lists bound from `caches` (created when missing) and dpkg's
// logs and caches emptied. Throws cog::Error(Validation) for a name apt would not accept.
StepSpec apt_install_step(const std::vector<std::string>& packages, const StepCaches& caches, const std::string& suite,
                          const std::string& arch, std::int64_t source_date_epoch);

// `python3 -m pip install -r <requirements>` into the system interpreter (Debian marks it
// externally managed, hence --break-system-packages), the requirements file bound read-only at
// /tmp/cog-requirements.txt and pip's cache bound from `caches`.
StepSpec pip_install_step(const std::filesystem::path& requirements_file, const StepCaches& caches,
                          std::int64_t source_date_epoch);

}  // namespace cog::builder::exec
