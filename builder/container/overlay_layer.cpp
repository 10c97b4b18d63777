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
#include <string_view>
#include <vector>

#include "builder/oci/descriptor.hpp"
#include "builder/oci/overlay_layer.hpp"
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

namespace {

enum class LinkMode {
  Replica,  // an exact second copy of a layer directory, whiteouts and opaque markers included
  Stacked,  // the layer applied over what the directory already holds
};

[[noreturn]] void link_failed(const fs::path& path, const std::string& what) {
  throw Error(ErrorKind::Io, path.string(), what + ": " + std::strerror(errno),
              "keep the rootfs cache (COG_ROOTFS_CACHE) on the same file system as cog's cache, with free inodes");
}

struct stat lstat_of(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) link_failed(path, "cannot read the layer entry");
  return info;
}

bool is_whiteout(const struct stat& info) { return S_ISCHR(info.st_mode) && info.st_rdev == makedev(0, 0); }

bool is_overlay_xattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

// The directory's extended attributes onto `to`. Overlay markers are kept only in a replica (a
// stacked root is a plain tree); an overlay marker that cannot be written fails the replica, any
// other attribute is best effort (a security label the file system does not take).
void copy_xattrs(const fs::path& from, const fs::path& to, LinkMode mode) {
  const ssize_t size = ::llistxattr(from.c_str(), nullptr, 0);
  if (size <= 0) return;
  std::vector<char> names(static_cast<size_t>(size));
  const ssize_t listed = ::llistxattr(from.c_str(), names.data(), names.size());
  if (listed <= 0) return;
  for (size_t at = 0; at < static_cast<size_t>(listed);) {
    const std::string name(&names[at]);
    at += name.size() + 1;
    const bool overlay = is_overlay_xattr(name);
    if (overlay && mode == LinkMode::Stacked) continue;
    const ssize_t length = ::lgetxattr(from.c_str(), name.c_str(), nullptr, 0);
    if (length < 0) continue;
    std::vector<char> value(static_cast<size_t>(length));
    if (::lgetxattr(from.c_str(), name.c_str(), value.data(), value.size()) != length) continue;
    if (::lsetxattr(to.c_str(), name.c_str(), value.data(), value.size(), 0) != 0 && overlay) {
      link_failed(to, "cannot mark the directory " + name);
    }
  }
}

// Owner, mode and times last: adding entries changes a directory's mtime.
void copy_dir_metadata(const struct stat& info, const fs::path& from, const fs::path& to, LinkMode mode) {
  copy_xattrs(from, to, mode);
  if (::lchown(to.c_str(), info.st_uid, info.st_gid) != 0 && errno != EPERM) link_failed(to, "cannot set the owner");
  if (::chmod(to.c_str(), info.st_mode & 07777) != 0) link_failed(to, "cannot set the mode");
  const struct timespec times[2] = {info.st_atim, info.st_mtim};
  ::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

void remove_existing(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);  // a symlink is removed itself, never followed
  if (ec) {
    errno = ec.value();
    link_failed(path, "cannot replace what a lower layer put there");
  }
}

// `to` is a real directory (never a symlink) when this is called.
void link_children(const fs::path& from, const fs::path& to, LinkMode mode) {
  std::error_code ec;
  fs::directory_iterator entries(from, ec);
  if (ec) {
    errno = ec.value();
    link_failed(from, "cannot list the layer directory");
  }
  for (const auto& entry : entries) {
    const fs::path source = entry.path();
    const fs::path target = to / source.filename();
    const struct stat info = lstat_of(source);
    if (mode == LinkMode::Stacked && is_whiteout(info)) {
      remove_existing(target);
      continue;
    }
    if (S_ISDIR(info.st_mode)) {
      struct stat existing {};
      bool exists = ::lstat(target.c_str(), &existing) == 0;
      if (exists && (!S_ISDIR(existing.st_mode) || (mode == LinkMode::Stacked && oci::is_opaque_dir(source)))) {
        remove_existing(target);
        exists = false;
      }
      if (!exists && ::mkdir(target.c_str(), 0700) != 0) link_failed(target, "cannot make the directory");
      link_children(source, target, mode);
      copy_dir_metadata(info, source, target, mode);
      continue;
    }
    if (mode == LinkMode::Stacked) remove_existing(target);
    if (::linkat(AT_FDCWD, source.c_str(), AT_FDCWD, target.c_str(), 0) != 0) {
      link_failed(target, "cannot link " + source.string());
    }
  }
}

void link_tree(const fs::path& from, const fs::path& to, LinkMode mode) {
  struct stat root {};
  if (::lstat(to.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)) link_failed(to, "not a directory");
  const struct stat info = lstat_of(from);
  if (!S_ISDIR(info.st_mode)) link_failed(from, "not a layer directory");
  link_children(from, to, mode);
  copy_dir_metadata(info, from, to, mode);
}

}  // namespace

void link_layer_dir(const fs::path& source, const fs::path& dir) { link_tree(source, dir, LinkMode::Replica); }

void stack_layer_dir(const fs::path& layer, const fs::path& root) { link_tree(layer, root, LinkMode::Stacked); }

}  // namespace cog::builder::container
