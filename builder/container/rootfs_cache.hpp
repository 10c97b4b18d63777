#pragma once
// Unpacked images, and a container's writable overlay on top of them. Each layer is unpacked
// once, by diff ID, into <cache>/layers/<hex> (whiteouts in overlayfs form, overlay_layer.hpp),
// and an image is the overlay of its layers: images that share layers share their files on disk.
// A layer the build already holds unpacked (its layer-dirs) is hard-linked from there instead,
// so a model built here and then run costs its files once. An image with more layers than one
// overlay mount can take, and a --base-image a build inspects, is one merged root cached by chain
// ID, <cache>/<chain-id hex>: its layer directories stacked as hard links, no file copied.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/oci/digest.hpp"
#include "builder/oci/image.hpp"
#include "builder/oci/layout.hpp"
#include "builder/oci/store.hpp"

namespace cog::builder::container {

// The OCI chain ID of a layer stack (bottom first): ChainID(L0) = DiffID(L0),
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
oci::Digest chain_id(const std::vector<oci::Digest>& diff_ids);

// $COG_ROOTFS_CACHE, else $XDG_CACHE_HOME/cog/rootfs, else ~/.cache/cog/rootfs.
std::filesystem::path default_rootfs_cache_path();

// Where builds keep their layers unpacked by diff ID (<cog cache>/layer-dirs): the directories a
// RootfsCache links layers from before it unpacks a blob.
std::vector<std::filesystem::path> default_layer_donors();

class RootfsCache {
 public:
  // `donors`: directories holding layers already unpacked in overlay form, by diff ID hex (a
  // build's layer-dirs). A layer found there is hard-linked; any failure to link (another file
  // system) falls back to unpacking the blob.
  explicit RootfsCache(std::filesystem::path dir, std::vector<std::filesystem::path> donors = {});

  // The read-only lower directories (top first) that make up the image's root, unpacking what is
  // missing: one directory per layer (layer_dir), or one merged root when the layers do not fit
  // one overlay mount. An unpack goes into a temporary directory renamed into place at the end,
  // so an interrupted unpack never leaves a half-written layer or root behind.
  std::vector<std::filesystem::path> ensure_layers(const oci::Layout& layout, const oci::Manifest& manifest,
                                                   const oci::ImageConfig& config) const;

  // The image's root as one directory (every layer applied in order, cached by chain ID): for
  // callers that read files of the root directly (e.g. a --base-image being inspected). Returned
  // as a one-element list of lower directories.
  std::vector<std::filesystem::path> ensure(const oci::Layout& layout, const oci::Manifest& manifest,
                                            const oci::ImageConfig& config) const;

  std::filesystem::path layer_dir(const oci::Digest& diff_id) const { return dir_ / "layers" / diff_id.hex; }

  // Deletes unpacked layers and merged roots that none of `images` (each its diff IDs, bottom
  // first) needs, keeping anything used within `grace`: a build or a container may be using an
  // entry right now that no stored image names yet (a --base-image read from an oci: directory),
  // and every use refreshes an entry's time. Unfinished unpacks older than `grace` go too.
  // Returns how many entries were deleted.
  int prune(const std::vector<std::vector<oci::Digest>>& images, std::chrono::seconds grace) const;

  // Whether `lower_dirs` fit in one overlay mount: the kernel takes at most a page of mount
  // options and a bounded lower stack.
  static bool fits_one_overlay(const std::vector<std::filesystem::path>& lower_dirs);

 private:
  std::filesystem::path ensure_layer(const oci::Layout& layout, const oci::Descriptor& layer,
                                     const oci::Digest& diff_id) const;
  std::filesystem::path ensure_merged(const oci::Layout& layout, const oci::Manifest& manifest,
                                      const oci::ImageConfig& config) const;
  void check_layers(const oci::Manifest& manifest, const oci::ImageConfig& config) const;
  bool link_from_donor(const oci::Digest& diff_id, const std::filesystem::path& staging) const;

  std::filesystem::path dir_;
  std::vector<std::filesystem::path> donors_;
};

// A writable overlay (lower dirs + a fresh upper dir) mounted at `merged()`; unmounted and deleted
// on destruction. Mount it inside a private mount namespace (enter_private_mount_namespace) so
// even a SIGKILL leaves nothing mounted on the host.
class Overlay {
 public:
  Overlay(const std::vector<std::filesystem::path>& lower_dirs, const std::filesystem::path& scratch);
  ~Overlay();
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  const std::filesystem::path& merged() const { return merged_; }
  // The scratch directory holding upper/, work/ and merged/.
  const std::filesystem::path& dir() const { return scratch_; }

 private:
  std::filesystem::path scratch_;
  std::filesystem::path merged_;
};

// Moves this process into its own mount namespace with private propagation: mounts made after
// this vanish with the process, whatever way it ends. Needs root (or a user namespace).
void enter_private_mount_namespace();

// Prunes the unpacked roots that no image of `store` needs, unless used in the last
// COG_ROOTFS_GRACE_SECONDS (default 30 min: a build or container may be using one that no stored
// image names yet). Only for the shared store: the cache serves every store, and a private one
// (COG_IMAGE_STORE) cannot tell which layers the others' images need. Returns how many went.
int prune_unused_rootfs(const oci::ImageStore& store);

}  // namespace cog::builder::container
