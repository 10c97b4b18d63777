#pragma once
// The mount points a step needs (/proc, /etc/resolv.conf, cache and secret targets), provided as
// one more read-only layer on top of the image. Creating them in the merged view would write them,
// and copies of their parent directories, into the upper directory, i.e. into the layer.
#include <filesystem>
#include <vector>

namespace cog::builder::exec {

struct MountPoint {
  std::filesystem::path target;  // absolute, normalised, inside the root
  bool directory = true;         // false: an empty file (for binding a file)
};

// Creates `skeleton_dir` holding every mount point and its parents. Directories that exist in the
// image copy their mode, owner and mtime from it, so a later copy-up of them (when the step writes
// inside) records the image's metadata, not ours. Throws cog::Error(Validation) when a target
// would pass through a symlink or replace a directory with a file (or the reverse).
// `lowers` is in image order (base first).
void build_skeleton(const std::vector<std::filesystem::path>& lowers, const std::vector<MountPoint>& points,
                    const std::filesystem::path& skeleton_dir);

}  // namespace cog::builder::exec
