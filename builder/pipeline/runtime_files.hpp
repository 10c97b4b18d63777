#pragma once
// Our runtime as it goes into every image: the C++ server and worker, the shared libraries they
// need that a Debian base may lack, and the Python `cog` SDK. One layer shared by all models.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cog::builder::pipeline {

// Where the runtime lives on this machine.
struct RuntimeFiles {
  std::filesystem::path server_binary;  // cog-server
  std::filesystem::path worker_binary;  // cog-worker (built against one Python, see python_version)
  std::filesystem::path sdk_dir;        // the directory holding the `cog` package
  std::string python_version;           // major.minor the worker embeds, e.g. "3.11"
  // The worker's sources (`worker-src/` beside cog-worker, see locate_runtime), compiled inside
  // an image whose Python differs from python_version (worker_build.hpp). Empty: not found.
  std::filesystem::path worker_sources;
  // Shared libraries of a worker compiled inside an image's root, by soname, taken from that root
  // (its libstdc++ may be newer than this machine's). Empty: resolved here with ldd.
  std::map<std::string, std::filesystem::path> worker_libraries;
};

// Paths inside the image.
inline constexpr const char* kImageRuntimeDir = "/opt/cog";
inline constexpr const char* kImageServer = "/opt/cog/bin/cog-server";
inline constexpr const char* kImageSdkDir = "/opt/cog/python";

// COG_RUNTIME_DIR (holding cog-server and cog-worker), else the build tree beside the cog binary
// (build/cli/cog → build/runtime/); the SDK from COG_SDK_DIR, else the source tree. Throws
// cog::Error naming what is missing.
//
// The worker's sources are the directory `worker-src/` in the same runtime directory: the build
// (runtime/CMakeLists.txt, target cog-worker-sources) copies there the files cog-worker is made
// of, laid out as in the source tree (runtime/worker, runtime/ipc, support/error.*) plus
// generated/runtime/worker/driver_source.hpp. A cog installed elsewhere keeps cog-server,
// cog-worker and worker-src/ together in one directory and names it with COG_RUNTIME_DIR.
RuntimeFiles locate_runtime();

// Of two files providing one soname, whether `candidate` should replace `current`: its real file
// name (after symlinks) has a strictly higher version (libstdc++.so.6.0.33 over 6.0.30), since
// newer C/C++ runtime libraries serve binaries linked against older ones.
bool newer_library(const std::filesystem::path& candidate, const std::filesystem::path& current);

// The DT_NEEDED sonames of a 64-bit ELF executable, read from its dynamic section: what `ldd` lists
// first, without running the dynamic loader (ldd cost a warm rebuild 10-40 ms). Throws
// cog::Error(Runtime) for anything that is not a dynamically linked ELF64 file.
std::vector<std::string> needed_libraries(const std::filesystem::path& binary);

// Copies the runtime into `staging` laid out as in the image (/opt/cog/bin, /opt/cog/lib,
// /opt/cog/python) plus a .pth file so the image's python finds the SDK
// (`python -m cog.server.http` works). Libraries the image provides itself (libc, libm, the
// dynamic loader, libpython) are not copied. When server and worker need the same soname from
// different files, the newer one goes in (newer_library), the worker's on a tie.
// `python_link` is the target of a /usr/local/bin/python symlink: "/usr/bin/python3" over Debian's
// Python (which ships only python3), "python3" over one in /usr/local/bin, empty for none (bases
// that have their own python there, as python:*-slim do, which the link would shadow).
// `image_library` gives the real file name of a soname the image below has (nullopt: none): a
// library the image has in the same or a newer version is not shipped, since /opt/cog/lib comes
// first for every object the worker loads (its DT_RPATH): trixie's Python 3.13 `_ssl` needs
// OpenSSL 3.3+, and our bookworm libcrypto.so.3 would shadow the image's.
using ImageLibrary = std::function<std::optional<std::string>(const std::string& soname)>;
void stage_runtime(const RuntimeFiles& runtime, const std::filesystem::path& staging,
                   const std::string& python_link = "/usr/bin/python3", const ImageLibrary& image_library = {});

}  // namespace cog::builder::pipeline
