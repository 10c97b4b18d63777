#pragma once
// An overlayfs upper directory as a layer: whiteout char devices (0/0) become `.wh.<name>`
// files, opaque directories (trusted.overlay.opaque=y or user.overlay.opaque=y) get a
// `.wh..wh..opq` entry; everything else is written as by write_layer_from_directory.
// Mount the overlay with redirect_dir=off,metacopy=off,index=off: a renamed directory or a
// metadata-only copy-up leaves content in the lower dir that an upper-dir layer cannot carry.
#include <filesystem>

#include "builder/oci/tar_writer.hpp"

namespace cog::builder::oci {

// Whether the directory is marked opaque (trusted.overlay.opaque=y, or user.overlay.opaque=y as
// `userxattr` mounts write it): it hides whatever the layers below hold at its path.
bool is_opaque_dir(const std::filesystem::path& dir);

std::vector<TarEntry> collect_overlay_entries(const std::filesystem::path& upper_dir, const LayerOptions& options);

LayerBlob write_layer_from_overlay(const std::filesystem::path& upper_dir, const std::filesystem::path& out_file,
                                   const LayerOptions& options = {});

}  // namespace cog::builder::oci
