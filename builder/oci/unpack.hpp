#pragma once
// Applying layer tars (plain, gzip or zstd) onto a root file system directory, honouring
// whiteouts. Hostile input is contained: every path is resolved inside the root as if the root
// were `/` (symlinks included), `..` entries are rejected, and nothing outside is ever touched.
#include <cstdint>
#include <filesystem>

#include "builder/oci/descriptor.hpp"
#include "builder/oci/layout.hpp"

namespace cog::builder::oci {

struct UnpackOptions {
  bool preserve_owner = true;  // chown to the tar's uid/gid (needs root; ignored otherwise)
  bool device_nodes = true;    // create char/block devices (needs root; skipped otherwise)
  bool xattrs = false;         // apply SCHILY.xattr records
};

struct UnpackStats {
  std::size_t entries = 0;
  std::size_t whiteouts = 0;
  std::size_t skipped = 0;  // devices we could not create
};

// Throws cog::Error(Validation) on a hostile or malformed entry (the rootfs may then hold the
// entries applied before it).
UnpackStats apply_layer(const std::filesystem::path& layer_file, const std::filesystem::path& rootfs,
                        const UnpackOptions& options = {});

// Every layer of the image `manifest` (from `layout`), bottom first, onto `rootfs`.
UnpackStats unpack_image(const Layout& layout, const Descriptor& manifest, const std::filesystem::path& rootfs,
                         const UnpackOptions& options = {});

}  // namespace cog::builder::oci
