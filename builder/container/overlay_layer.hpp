#pragma once
// One image layer unpacked on its own as an overlayfs lower directory: its files as they are in
// the tar (safely: builder/oci/unpack.hpp), its whiteouts in overlayfs' own form, so that a stack
// of such directories mounts as the image's root.
#include <filesystem>
#include <string>
#include <vector>

namespace cog::builder::container {

// The whiteouts of a layer tar, as paths relative to the layer root.
struct LayerWhiteouts {
  std::vector<std::string> removed;      // ".wh.name" → "dir/name"
  std::vector<std::string> opaque_dirs;  // ".wh..wh..opq" in "dir" → "dir"
};
LayerWhiteouts scan_whiteouts(const std::filesystem::path& layer_file);

// Unpacks `layer_file` into the empty directory `dir`, then writes the whiteouts overlayfs
// understands: a 0/0 character device for a removed path, trusted.overlay.opaque=y on an opaque
// directory. Needs root (mknod, trusted.* xattrs). Throws cog::Error.
void unpack_layer_for_overlay(const std::filesystem::path& layer_file, const std::filesystem::path& dir);

}  // namespace cog::builder::container
