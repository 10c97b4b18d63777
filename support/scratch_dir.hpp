#pragma once
// Fresh directories for work in progress: unpacks, bundles, build steps' uppers.
#include <filesystem>
#include <string>

namespace cog::support {

// A new, empty directory `parent/<prefix>XXXXXX` (mkdtemp; `parent` is created as needed).
// Throws cog::Error(Io) naming `parent` when it cannot be made.
std::filesystem::path make_unique_dir(const std::filesystem::path& parent, const std::string& prefix);

// A make_unique_dir directory that is removed, with everything in it, on every exit path.
struct ScratchDir {
  std::filesystem::path path;

  ScratchDir(const std::filesystem::path& parent, const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

}  // namespace cog::support
