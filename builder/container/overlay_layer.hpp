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

// The two ways below of laying out a layer directory cost no file data: directories are made anew
// (mode, owner, times, xattrs) and every other entry becomes one more hard link to the layer's
// inode. That is safe because layer directories are read-only lowers: a container or build step
// writes to its own upper directory, and a copy-up never touches the lower inode. Both throw
// cog::Error when a link cannot be made (another file system, a link count at its limit).

// Recreates the overlay-form layer directory `source` (whiteouts and opaque markers included) in
// the empty directory `dir`: the same layer, unpacked once, serving a second cache.
void link_layer_dir(const std::filesystem::path& source, const std::filesystem::path& dir);

// Stacks the overlay-form layer directory `layer` onto the plain directory `root` as overlayfs
// stacks it over the layers below: a 0/0 character device removes its path, an opaque directory
// hides what was below it, a directory over a non-directory replaces it, and any other entry
// replaces what was at its path. `root` never gets a whiteout or an overlay xattr, and no symlink
// in it is followed: a layer's directory is made a real directory before anything goes into it.
void stack_layer_dir(const std::filesystem::path& layer, const std::filesystem::path& root);

}  // namespace cog::builder::container
