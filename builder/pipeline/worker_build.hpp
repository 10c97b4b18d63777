#pragma once
// cog-worker for an image whose Python is not the one the worker on this machine embeds: its
// sources (RuntimeFiles::worker_sources) compiled inside the image's own root file system, so it
// links that root's libpython and libstdc++. The compile runs in a throwaway sandbox over the
// Debian base (its overlay upper, holding the compiler, is deleted afterwards and never becomes
// a layer); the binary and the libraries it needs from that root are kept under
// <cache_root>/workers/<key>/, keyed by the base, the sources' content and the compiler
// packages' versions, so the next build of any project on that base reuses it.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "builder/exec/install_steps.hpp"
#include "builder/exec/output.hpp"

namespace cog::builder::pipeline {

struct WorkerBuildRequest {
  std::filesystem::path sources;                   // worker-src/ (see runtime_files.hpp)
  std::vector<std::filesystem::path> base_layers;  // read-only lowers, the base first
  std::string base_key;                            // exec::DebianBase::key
  std::string suite;                               // "trixie": apt caches are per suite
  std::string arch = "amd64";
  std::string python_version;  // major.minor of the base's python3
  // Where that Python lives: "/usr" for Debian's package (headers and pybind11 from apt), another
  // prefix ("/usr/local") for a python-build-standalone one (headers from it, pybind11 from PyPI).
  std::string python_prefix = "/usr";
  exec::StepCaches caches;           // apt's download caches
  std::vector<std::string> env;      // what the sandboxed steps see
  std::filesystem::path ca_bundle;   // host CA bundle for apt; may be empty
  std::filesystem::path cache_root;  // the compiled workers live in <cache_root>/workers
  std::filesystem::path scratch;     // throwaway overlay uppers go here
  bool no_cache = false;             // compile even when a cached worker matches
};

struct CompiledWorker {
  std::filesystem::path binary;                            // <entry>/bin/cog-worker
  std::map<std::string, std::filesystem::path> libraries;  // soname -> <entry>/lib/<file>
  std::string python_version;                              // major.minor it embeds
  std::string key;                                         // hex cache key
  std::vector<std::string> compiler_packages;              // "g++ 4:14.2.0-1", sorted
  bool reused = false;                                     // found in the cache
};

// What the compile installs with apt: g++, nlohmann-json headers and, for Debian's Python
// (prefix "/usr"), its embedding headers and library and pybind11.
std::vector<std::string> worker_build_packages(const std::string& python_version,
                                               const std::string& python_prefix = "/usr");

// What the compile installs with pip, "name version" as the cache key lists them: pybind11 for a
// Python outside /usr (Debian's pybind11-dev is built for Debian's Python), else nothing.
std::vector<std::string> worker_pip_packages(const std::string& python_prefix);

// Hex sha256 of every file under `sources`: relative path and content, in path order.
std::string hash_worker_sources(const std::filesystem::path& sources);

// The cache key: base, sources, python and the compiler packages ("name version", any order).
std::string worker_cache_key(const std::string& base_key, const std::string& sources_hash,
                             const std::string& python_version, std::vector<std::string> compiler_packages);

// `apt-cache policy` output → "name version" of each package's candidate, sorted; packages
// without a candidate are left out.
std::vector<std::string> parse_apt_candidates(const std::string& policy_output);

// Keeps the `keep` most recently made or reused compiled workers for `python_version` in
// `workers` (by their directory's modification time) and removes the rest, with leftovers of killed compiles. Call it
// holding the lock ensure_worker takes (ensure_worker does, after each compile).
void prune_compiled_workers(const std::filesystem::path& workers, const std::string& python_version, std::size_t keep);

// Reuses the cached worker whose key matches the compiler versions apt would install now (read
// from the cached package lists, offline), else compiles one (minutes: apt downloads the
// compiler, then g++ runs; output goes to `progress`). Throws cog::Error naming the step when
// the sources are missing or a step fails.
CompiledWorker ensure_worker(const WorkerBuildRequest& request, const exec::LineSink& progress);

}  // namespace cog::builder::pipeline
