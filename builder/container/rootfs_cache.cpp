#include "builder/container/rootfs_cache.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>

#include "builder/container/overlay_layer.hpp"
#include "support/error.hpp"
#include "support/scratch_dir.hpp"

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

// Marks an entry as just used (its mtime), for prune's grace period.
void touch(const fs::path& entry) {
  std::error_code ignored;
  fs::last_write_time(entry, fs::file_time_type::clock::now(), ignored);
}

// Moves the finished `staging` directory to `target`. When another process got there first
// (`complete()` then holds for its copy), that copy is as good as ours, and ours goes with its
// ScratchDir; any other failure is an error naming `what`.
template <typename Complete>
void move_into_place(const fs::path& staging, const fs::path& target, const std::string& what, Complete complete) {
  std::error_code ec;
  fs::rename(staging, target, ec);
  if (!ec) return;
  if (!complete()) {
    throw Error(ErrorKind::Io, target.string(), "could not move the unpacked " + what + " into place: " + ec.message(),
                "check free space and permissions of the rootfs cache");
  }
}

}  // namespace

oci::Digest chain_id(const std::vector<oci::Digest>& diff_ids) {
  if (diff_ids.empty()) return {};
  oci::Digest chain = diff_ids.front();
  for (size_t i = 1; i < diff_ids.size(); ++i) {
    chain = oci::sha256_of(chain.str() + " " + diff_ids[i].str());
  }
  return chain;
}

fs::path default_rootfs_cache_path() {
  if (const char* dir = std::getenv("COG_ROOTFS_CACHE"); dir && *dir) return dir;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) {
    return fs::path(cache) / "cog" / "rootfs";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".cache" / "cog" / "rootfs";
}

std::vector<fs::path> default_layer_donors() { return {oci::default_cache_root() / "layer-dirs"}; }

RootfsCache::RootfsCache(fs::path dir, std::vector<fs::path> donors)
    : dir_(std::move(dir)), donors_(std::move(donors)) {}

void RootfsCache::check_layers(const oci::Manifest& manifest, const oci::ImageConfig& config) const {
  if (manifest.layers.size() != config.diff_ids.size()) {
    throw Error(ErrorKind::Validation, "image config",
                "the manifest lists " + std::to_string(manifest.layers.size()) + " layers but the config has " +
                    std::to_string(config.diff_ids.size()) + " diff IDs",
                "rebuild or re-pull the image");
  }
  if (manifest.layers.empty()) {
    throw Error(ErrorKind::Validation, "image", "has no layers", "rebuild or re-pull the image");
  }
}

std::vector<fs::path> RootfsCache::ensure(const oci::Layout& layout, const oci::Manifest& manifest,
                                          const oci::ImageConfig& config) const {
  check_layers(manifest, config);
  return {ensure_merged(layout, manifest, config)};
}

std::vector<fs::path> RootfsCache::ensure_layers(const oci::Layout& layout, const oci::Manifest& manifest,
                                                 const oci::ImageConfig& config) const {
  check_layers(manifest, config);
  std::vector<fs::path> lowers;  // top first, as overlayfs lists them
  for (const auto& diff_id : config.diff_ids) {
    // overlayfs refuses a directory listed twice ("conflicting lowerdir path"), and a layer may
    // repeat (an image built on a cog-built base carries the runtime layer twice). The topmost
    // copy touches every path the lower one does, and wins there, so dropping the lower copy
    // leaves the same tree.
    const fs::path dir = layer_dir(diff_id);
    std::erase(lowers, dir);
    lowers.insert(lowers.begin(), dir);
  }
  if (!fits_one_overlay(lowers)) return {ensure_merged(layout, manifest, config)};
  for (size_t i = 0; i < manifest.layers.size(); ++i) ensure_layer(layout, manifest.layers[i], config.diff_ids[i]);
  return lowers;
}

bool RootfsCache::fits_one_overlay(const std::vector<fs::path>& lower_dirs) {
  // Room is left for upperdir=, workdir= (Overlay's scratch paths) within the 4096-byte page.
  constexpr size_t option_budget = 4096 - 1024;
  constexpr size_t max_lowers = 128;  // well under the kernel's stack limit (500)
  size_t length = std::string("lowerdir=").size();
  for (const auto& dir : lower_dirs) length += dir.string().size() + 1;
  return lower_dirs.size() <= max_lowers && length <= option_budget;
}

fs::path RootfsCache::ensure_layer(const oci::Layout& layout, const oci::Descriptor& layer,
                                   const oci::Digest& diff_id) const {
  // The rename is the completion marker: a layer directory exists only once fully unpacked (no
  // marker file, which every container would see at its root).
  const fs::path target = layer_dir(diff_id);
  if (fs::is_directory(target)) {
    touch(target);
    return target;
  }
  const support::ScratchDir staging(dir_ / "layers", ".unpack-");  // gone on every path but the rename
  if (!link_from_donor(diff_id, staging.path)) unpack_layer_for_overlay(layout.blob_path(layer.digest), staging.path);
  fs::permissions(staging.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
  move_into_place(staging.path, target, "layer", [&] { return fs::is_directory(target); });
  return target;
}

bool RootfsCache::link_from_donor(const oci::Digest& diff_id, const fs::path& staging) const {
  for (const auto& donor : donors_) {
    const fs::path source = donor / diff_id.hex;
    std::error_code ec;
    if (!fs::is_directory(source, ec)) continue;
    try {
      link_layer_dir(source, staging);
      return true;
    } catch (const Error&) {
      // Another file system, or the build cache collected it meanwhile: start again empty.
      for (const auto& entry : fs::directory_iterator(staging, ec)) fs::remove_all(entry.path(), ec);
    }
  }
  return false;
}

fs::path RootfsCache::ensure_merged(const oci::Layout& layout, const oci::Manifest& manifest,
                                    const oci::ImageConfig& config) const {
  const fs::path root = dir_ / chain_id(config.diff_ids).hex;
  if (fs::exists(root / ".cog-complete")) {
    touch(root / ".cog-complete");
    return root;
  }

  std::vector<fs::path> layers;  // bottom first
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    layers.push_back(ensure_layer(layout, manifest.layers[i], config.diff_ids[i]));
  }
  const support::ScratchDir staging(dir_, ".unpack-");  // gone on every path but the rename
  for (const auto& layer : layers) stack_layer_dir(layer, staging.path);
  // A marker outside any layer's namespace: a root without it is an unfinished unpack.
  std::ofstream(staging.path / ".cog-complete").put('\n');
  move_into_place(staging.path, root, "root", [&] { return fs::exists(root / ".cog-complete"); });
  return root;
}

int RootfsCache::prune(const std::vector<std::vector<oci::Digest>>& images, std::chrono::seconds grace) const {
  std::set<std::string> keep;
  for (const auto& diff_ids : images) {
    std::vector<oci::Digest> prefix;
    for (const auto& diff_id : diff_ids) {
      keep.insert(diff_id.hex);
      prefix.push_back(diff_id);
      keep.insert(chain_id(prefix).hex);
    }
  }
  const auto now = fs::file_time_type::clock::now();
  auto recently_used = [&](const fs::path& stamp) {
    std::error_code ec;
    const auto used = fs::last_write_time(stamp, ec);
    return !ec && now - used < grace;
  };
  int removed = 0;
  auto sweep = [&](const fs::path& dir, bool merged_roots) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name == "layers" || keep.count(name)) continue;
      if (!entry.is_directory() || (name.front() == '.' && !name.starts_with(".unpack-"))) continue;
      const bool finished = name.front() != '.';
      if (recently_used(finished && merged_roots ? entry.path() / ".cog-complete" : entry.path())) continue;
      std::error_code failed;
      fs::remove_all(entry.path(), failed);
      if (!failed) ++removed;
    }
  };
  sweep(dir_, true);
  sweep(dir_ / "layers", false);
  return removed;
}

Overlay::Overlay(const std::vector<fs::path>& lower_dirs, const fs::path& scratch) {
  if (lower_dirs.empty()) {
    throw Error(ErrorKind::Usage, "overlay", "no lower directories given", "");
  }
  scratch_ = support::make_unique_dir(scratch, "container-");
  merged_ = scratch_ / "merged";
  for (const char* sub : {"upper", "work", "merged"}) fs::create_directories(scratch_ / sub);
  std::string lower;
  for (const auto& dir : lower_dirs) lower += (lower.empty() ? "" : ":") + dir.string();
  const std::string options =
      "lowerdir=" + lower + ",upperdir=" + (scratch_ / "upper").string() + ",workdir=" + (scratch_ / "work").string();
  if (mount("overlay", merged_.c_str(), "overlay", 0, options.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::error_code ignored;
    fs::remove_all(scratch_, ignored);
    throw Error(ErrorKind::Runtime, merged_.string(), "could not mount the container's overlay: " + reason,
                "cog needs root (or a user namespace) and a kernel with overlayfs");
  }
}

Overlay::~Overlay() {
  umount2(merged_.c_str(), MNT_DETACH);
  std::error_code ignored;
  fs::remove_all(scratch_, ignored);
}

void enter_private_mount_namespace() {
  if (unshare(CLONE_NEWNS) != 0) {
    throw Error(ErrorKind::Runtime, "mount namespace", std::strerror(errno),
                "run cog as root, or where user namespaces are allowed");
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    throw Error(ErrorKind::Runtime, "mount namespace", std::strerror(errno), "");
  }
}

namespace {

// Every stored image's layers, read under the store's lock so that another cog cannot untag an
// image and collect its blobs between the listing and the reads; an entry unreadable even so (a
// damaged store) gives no snapshot, so nothing is pruned on a partial view.
std::optional<std::vector<std::vector<oci::Digest>>> layers_of_stored_images(const oci::ImageStore& store) {
  std::optional<std::vector<std::vector<oci::Digest>>> images;
  store.layout().read_consistently([&] {
    try {
      std::vector<std::vector<oci::Digest>> read;
      for (const auto& image : store.list()) {
        read.push_back(store.layout().read_config(store.layout().read_manifest(image.manifest_digest)).diff_ids);
      }
      images = std::move(read);
    } catch (const Error&) {
      images.reset();
    }
  });
  return images;
}

}  // namespace

int prune_unused_rootfs(const oci::ImageStore& store) {
  if (!oci::is_shared_store(store.layout().root())) return 0;
  const auto images = layers_of_stored_images(store);
  if (!images) return 0;
  std::chrono::seconds grace{30 * 60};
  if (const char* text = std::getenv("COG_ROOTFS_GRACE_SECONDS"); text && *text)
    grace = std::chrono::seconds(std::atoll(text));
  return RootfsCache(default_rootfs_cache_path()).prune(*images, grace);
}

}  // namespace cog::builder::container
