#pragma once
// Our runtime as it goes into every image: the C++ server and worker, the shared libraries they
// need that a Debian base may lack, and the Python `cog` SDK. One layer shared by all models.
#include <filesystem>
#include <string>
#include <vector>

namespace cog::builder::build {

// Where the runtime lives on this machine.
struct RuntimeFiles {
  std::filesystem::path server_binary;  // cog-server
  std::filesystem::path worker_binary;  // cog-worker (built against one Python, see python_version)
  std::filesystem::path sdk_dir;        // the directory holding the `cog` package
  std::string python_version;           // major.minor the worker embeds, e.g. "3.11"
};

// Paths inside the image.
inline constexpr const char* kImageRuntimeDir = "/opt/cog";
inline constexpr const char* kImageServer = "/opt/cog/bin/cog-server";
inline constexpr const char* kImageSdkDir = "/opt/cog/python";

// COG_RUNTIME_DIR (holding cog-server and cog-worker), else the build tree beside the cog binary
// (build/cli/cog → build/runtime/); the SDK from COG_SDK_DIR, else the source tree. Throws
// cog::Error naming what is missing.
RuntimeFiles locate_runtime();

// Copies the runtime into `staging` laid out as in the image (/opt/cog/bin, /opt/cog/lib,
// /opt/cog/python) plus a .pth file so the image's python finds the SDK
// (`python -m cog.server.http` works). Libraries the image provides itself (libc, libm, the
// dynamic loader, libpython) are not copied.
void stage_runtime(const RuntimeFiles& runtime, const std::filesystem::path& staging);

}  // namespace cog::builder::build
