#pragma once
// Base root file systems assembled from Debian packages (debootstrap --variant=minbase), cached
// by everything that decides their content, and scrubbed so the same package set gives the same
// layer: no apt lists, logs, caches, machine id or host names, no build dates in /etc/shadow.
// A base does not depend on SOURCE_DATE_EPOCH (the layer writer clamps mtimes), so builds with
// different timestamps share it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/exec/debian_suites.hpp"
#include "builder/exec/output.hpp"
#include "builder/exec/process.hpp"

namespace cog::builder::exec {

struct BaseRequest {
  std::string python_version;  // from cog.yaml: "3.11", "3.13" or with a patch level
  // false: no Debian Python at all (a python-build-standalone archive brings it); the base is
  // then the oldest suite (bookworm) with ca-certificates and tini, and python_version is ignored.
  bool with_python = true;
  std::string arch = "amd64";
  DebianMirrors mirrors = mirrors_from_apt_sources();  // reads the host's apt sources
  // Beside python3, python3-venv, python3-pip, libpython3.X (the worker embeds it),
  // ca-certificates and tini.
  std::vector<std::string> extra_packages;
  std::filesystem::path cache_root;  // empty: default_base_cache()
  RunLimits limits;
};

struct InstalledPackage {
  std::string name;
  std::string version;
};

struct DebianBase {
  std::filesystem::path rootfs;  // use as the lowest layer; never write into it
  std::string suite;
  std::string python_version;               // of the installed interpreter: "3.11.2"; empty without one
  std::string key;                          // the cache key (hex)
  std::vector<InstalledPackage> packages;   // everything dpkg installed, sorted by name
  std::string init_path = "/usr/bin/tini";  // also reachable as /sbin/tini, as in Cog images
  bool built = false;                       // false: found in the cache
  std::chrono::milliseconds elapsed{0};
};

// ${XDG_CACHE_HOME:-$HOME/.cache}/cog/bases
std::filesystem::path default_base_cache();

// The packages asked of debootstrap: the fixed set plus the extras, sorted, without duplicates.
std::vector<std::string> base_packages(const BaseRequest& request, const DebianSuite& suite);

// Hex sha256 of what decides a base's content: suite, arch, mirrors, packages, format.
std::string base_key(const BaseRequest& request, const DebianSuite& suite);

// Returns the cached base for the request, building it first when missing (a few minutes; one
// builder at a time per key, others wait). Throws cog::Error(Compatibility) for a Python no suite
// offers or whose patch level differs from the packaged one, cog::Error(Runtime) when debootstrap
// fails (its output went to `progress`).
DebianBase ensure_debian_base(const BaseRequest& request, const LineSink& progress);

// The scrub, exposed for tests: applied to a freshly bootstrapped `rootfs`.
void make_rootfs_reproducible(const std::filesystem::path& rootfs, const DebianSuite& suite,
                              const DebianMirrors& mirrors);

// Parses var/lib/dpkg/status.
std::vector<InstalledPackage> installed_packages(const std::filesystem::path& rootfs);

}  // namespace cog::builder::exec
