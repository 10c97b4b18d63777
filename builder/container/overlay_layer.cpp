#include "builder/container/overlay_layer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "builder/oci/descriptor.hpp"
#include "builder/oci/unpack.hpp"
#include "support/error.hpp"
#include "support/path_components.hpp"

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The directory `parts` inside the layer, created where missing, never through a symlink: a
// whiteout below a symlinked directory has no overlayfs form, so nullopt (it is skipped).
std::optional<int> open_dir_inside(int root_fd, const std::vector<std::string>& parts) {
  int current = dup(root_fd);
  for (const auto& part : parts) {
    if (part == "..") {
      close(current);
      return std::nullopt;
    }
    if (mkdirat(current, part.c_str(), 0755) != 0 && errno != EEXIST) {
      close(current);
      return std::nullopt;
    }
    const int next = openat(current, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(current);
    if (next < 0) return std::nullopt;
    current = next;
  }
  return current;
}

}  // namespace

LayerWhiteouts scan_whiteouts(const fs::path& layer_file) {
  LayerWhiteouts whiteouts;
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), layer_file.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw Error(ErrorKind::Io, layer_file.string(), archive_error_string(reader.get()),
                "the image's layer blob is unreadable; re-pull or rebuild the image");
  }
  const std::string prefix = oci::whiteout_prefix;
  archive_entry* entry = nullptr;
  while (true) {
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) {
      throw Error(ErrorKind::Validation, layer_file.string(), archive_error_string(reader.get()),
                  "the layer is truncated or corrupt; re-pull or rebuild the image");
    }
    const char* raw = archive_entry_pathname(entry);
    auto parts = support::path_components(raw ? raw : "");
    if (parts.empty() || !parts.back().starts_with(prefix)) continue;
    const std::string base = parts.back();
    parts.pop_back();
    std::string dir;
    for (const auto& part : parts) dir += (dir.empty() ? "" : "/") + part;
    if (base == oci::whiteout_opaque) {
      whiteouts.opaque_dirs.push_back(dir);
    } else {
      whiteouts.removed.push_back((dir.empty() ? "" : dir + "/") + base.substr(prefix.size()));
    }
  }
  return whiteouts;
}

void unpack_layer_for_overlay(const fs::path& layer_file, const fs::path& dir) {
  // apply_layer rejects '..' and keeps every write inside `dir`; on an empty directory its
  // whiteouts hide nothing, so they are written afterwards in overlayfs' form.
  oci::apply_layer(layer_file, dir);
  const LayerWhiteouts whiteouts = scan_whiteouts(layer_file);
  Fd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) throw Error(ErrorKind::Io, dir.string(), std::strerror(errno));
  for (const auto& path : whiteouts.removed) {
    auto parts = support::path_components(path);
    if (parts.empty()) continue;
    const std::string name = parts.back();
    parts.pop_back();
    auto parent = open_dir_inside(root.get(), parts);
    if (!parent) continue;
    Fd parent_fd(*parent);
    if (name == ".." || name == "." || name.empty()) continue;
    // A path the layer both removes and writes again is the layer's new file (tar order).
    struct stat existing {};
    if (fstatat(parent_fd.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) continue;
    if (mknodat(parent_fd.get(), name.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
      throw Error(ErrorKind::Runtime, dir.string() + "/" + path,
                  std::string("could not write an overlay whiteout: ") + std::strerror(errno),
                  "run cog as root on a file system that supports device nodes");
    }
  }
  for (const auto& path : whiteouts.opaque_dirs) {
    auto opened = open_dir_inside(root.get(), support::path_components(path));
    if (!opened) continue;
    Fd opaque(*opened);
    if (fsetxattr(opaque.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
      throw Error(ErrorKind::Runtime, dir.string() + "/" + path,
                  std::string("could not mark an opaque directory: ") + std::strerror(errno),
                  "run cog as root on a file system with trusted xattrs (ext4, xfs, btrfs)");
    }
  }
}

}  // namespace cog::builder::container
