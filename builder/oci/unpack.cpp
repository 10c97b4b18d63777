#include "builder/oci/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/error.hpp"
#include "support/text.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;
namespace {

constexpr int max_symlinks = 40;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

// Applies one layer; every path goes through resolve_dir, so nothing escapes `root_fd`.
class Applier {
 public:
  Applier(int root_fd, std::string layer_name, const UnpackOptions& options)
      : root_fd_(root_fd), layer_(std::move(layer_name)), options_(options), privileged_(::geteuid() == 0) {}

  void apply(archive* reader, archive_entry* entry, UnpackStats& stats);
  void finish();

 private:
  [[noreturn]] void hostile(const std::string& path, const std::string& what) const {
    throw Error(ErrorKind::Validation, layer_ + ": " + path, what,
                "the layer is malformed or hostile; use a trusted image");
  }
  std::vector<std::string> clean(const char* raw) const;
  // Real (symlink-free) path of a directory inside the root, following symlinks as if the root
  // were `/`; creates missing directories when `create`. nullopt when missing and not creating.
  std::optional<std::vector<std::string>> resolve_dir(const std::vector<std::string>& parts, bool create,
                                                      const std::string& entry) const;
  int open_dir(const std::vector<std::string>& resolved) const;
  void remove_tree(int dir_fd, const std::string& name) const;
  void apply_whiteout(const std::vector<std::string>& parts, const std::string& entry, UnpackStats& stats);
  void write_file(archive* reader, int dir_fd, const std::string& name, mode_t mode, const std::string& entry) const;

  int root_fd_;
  std::string layer_;
  const UnpackOptions& options_;
  bool privileged_;
  std::set<std::string> written_;  // resolved paths this layer created (opaque dirs keep them)
  std::vector<std::pair<std::string, struct timespec>> directory_times_;
};

std::vector<std::string> Applier::clean(const char* raw) const {
  std::string path = raw == nullptr ? "" : raw;
  auto parts = split(path);
  for (const auto& part : parts) {
    if (part == "..") hostile(path, "path contains '..'");
  }
  return parts;  // a leading '/' is dropped: absolute paths are taken relative to the root
}

std::optional<std::vector<std::string>> Applier::resolve_dir(const std::vector<std::string>& parts, bool create,
                                                             const std::string& entry) const {
  std::vector<std::string> resolved;
  std::deque<std::string> pending(parts.begin(), parts.end());
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();  // `..` at the root stays at the root
      continue;
    }
    resolved.push_back(part);
    std::string candidate = support::join(resolved, "/");
    struct stat info {};
    if (::fstatat(root_fd_, candidate.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) hostile(entry, std::string("cannot inspect parent: ") + std::strerror(errno));
      if (!create) return std::nullopt;
      if (::mkdirat(root_fd_, candidate.c_str(), 0755) != 0) {
        throw Error(ErrorKind::Io, layer_ + ": " + entry, std::strerror(errno));
      }
      continue;
    }
    if (S_ISDIR(info.st_mode)) continue;
    if (!S_ISLNK(info.st_mode)) hostile(entry, "a parent path component is not a directory");
    if (++links > max_symlinks) hostile(entry, "too many levels of symbolic links");
    resolved.pop_back();
    char target[PATH_MAX + 1];
    ssize_t length = ::readlinkat(root_fd_, candidate.c_str(), target, PATH_MAX);
    if (length < 0) hostile(entry, "unreadable symbolic link in the path");
    std::string link(target, static_cast<std::size_t>(length));
    if (link.starts_with('/')) resolved.clear();  // absolute targets start at the root
    auto link_parts = split(link);
    pending.insert(pending.begin(), link_parts.begin(), link_parts.end());
  }
  return resolved;
}

int Applier::open_dir(const std::vector<std::string>& resolved) const {
  std::string path = resolved.empty() ? "." : support::join(resolved, "/");
  int fd = ::openat(root_fd_, path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorKind::Io, layer_ + ": " + path, std::strerror(errno));
  return fd;
}

void Applier::remove_tree(int dir_fd, const std::string& name) const {
  struct stat info {};
  if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(info.st_mode)) {
    int child_fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child_fd >= 0) {
      DIR* dir = ::fdopendir(child_fd);
      std::vector<std::string> children;
      while (dir != nullptr) {
        dirent* item = ::readdir(dir);
        if (item == nullptr) break;
        std::string child = item->d_name;
        if (child != "." && child != "..") children.push_back(child);
      }
      for (const auto& child : children) remove_tree(dirfd(dir), child);
      if (dir != nullptr)
        ::closedir(dir);
      else
        ::close(child_fd);
    }
    ::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR);
  } else {
    ::unlinkat(dir_fd, name.c_str(), 0);
  }
}

void Applier::apply_whiteout(const std::vector<std::string>& parts, const std::string& entry, UnpackStats& stats) {
  std::vector<std::string> parent(parts.begin(), parts.end() - 1);
  std::string base = parts.back();
  auto resolved = resolve_dir(parent, false, entry);
  ++stats.whiteouts;
  if (!resolved) return;  // nothing below to hide
  Fd dir(open_dir(*resolved));
  std::string prefix = resolved->empty() ? "" : support::join(*resolved, "/") + "/";
  if (base == whiteout_opaque) {
    DIR* listing = ::fdopendir(::dup(dir.get()));
    std::vector<std::string> children;
    while (listing != nullptr) {
      dirent* item = ::readdir(listing);
      if (item == nullptr) break;
      std::string child = item->d_name;
      if (child != "." && child != ".." && !written_.contains(prefix + child)) {
        children.push_back(child);
      }
    }
    if (listing != nullptr) ::closedir(listing);
    for (const auto& child : children) remove_tree(dir.get(), child);
    return;
  }
  std::string hidden = base.substr(std::strlen(whiteout_prefix));
  if (hidden.empty() || hidden == "." || hidden == ".." || hidden.find('/') != std::string::npos) {
    hostile(entry, "whiteout for an invalid name");
  }
  remove_tree(dir.get(), hidden);
}

void Applier::write_file(archive* reader, int dir_fd, const std::string& name, mode_t mode,
                         const std::string& entry) const {
  Fd out(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777));
  if (out.get() < 0) throw Error(ErrorKind::Io, layer_ + ": " + entry, std::strerror(errno));
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  la_int64_t position = 0;
  for (;;) {
    int status = archive_read_data_block(reader, &block, &size, &offset);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) {
      throw Error(ErrorKind::Validation, layer_ + ": " + entry, archive_error_string(reader),
                  "the layer is truncated or corrupt");
    }
    if (offset != position && ::lseek(out.get(), offset, SEEK_SET) < 0) {
      throw Error(ErrorKind::Io, layer_ + ": " + entry, std::strerror(errno));
    }
    const char* bytes = static_cast<const char*>(block);
    for (size_t done = 0; done < size;) {
      ssize_t n = ::write(out.get(), bytes + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(ErrorKind::Io, layer_ + ": " + entry, std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    position = offset + static_cast<la_int64_t>(size);
  }
  if (::ftruncate(out.get(), position) != 0) {
    throw Error(ErrorKind::Io, layer_ + ": " + entry, std::strerror(errno));
  }
}

void Applier::apply(archive* reader, archive_entry* entry, UnpackStats& stats) {
  std::string raw = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
  auto parts = clean(raw.c_str());
  if (parts.empty()) return;  // the root itself ("./")
  ++stats.entries;
  if (parts.back().starts_with(whiteout_prefix)) return apply_whiteout(parts, raw, stats);

  std::vector<std::string> parent(parts.begin(), parts.end() - 1);
  const std::string& name = parts.back();
  auto resolved = *resolve_dir(parent, true, raw);
  Fd dir(open_dir(resolved));
  std::string path = resolved.empty() ? name : support::join(resolved, "/") + "/" + name;
  written_.insert(path);

  mode_t type = archive_entry_filetype(entry);
  mode_t mode = archive_entry_perm(entry);
  const char* hardlink = archive_entry_hardlink(entry);

  struct stat existing {};
  bool exists = ::fstatat(dir.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
  bool keep_directory = exists && S_ISDIR(existing.st_mode) && type == AE_IFDIR && !hardlink;
  if (exists && !keep_directory) remove_tree(dir.get(), name);

  if (hardlink != nullptr) {
    auto target_parts = clean(hardlink);
    if (target_parts.empty()) hostile(raw, "hard link to the root");
    std::vector<std::string> target_parent(target_parts.begin(), target_parts.end() - 1);
    auto target_dir = resolve_dir(target_parent, false, raw);
    if (!target_dir) hostile(raw, std::string("hard link target is missing: ") + hardlink);
    Fd target_fd(open_dir(*target_dir));
    // Flags 0: a symlink target is linked as itself, never followed.
    if (::linkat(target_fd.get(), target_parts.back().c_str(), dir.get(), name.c_str(), 0) != 0) {
      hostile(raw, std::string("cannot create hard link: ") + std::strerror(errno));
    }
    return;
  }

  switch (type) {
    case AE_IFDIR:
      if (!keep_directory && ::mkdirat(dir.get(), name.c_str(), 0700) != 0) {
        throw Error(ErrorKind::Io, layer_ + ": " + raw, std::strerror(errno));
      }
      break;
    case AE_IFREG:
      write_file(reader, dir.get(), name, mode, raw);
      break;
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      if (::symlinkat(target ? target : "", dir.get(), name.c_str()) != 0) {
        throw Error(ErrorKind::Io, layer_ + ": " + raw, std::strerror(errno));
      }
      break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      dev_t device = makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
      bool is_device = type != AE_IFIFO;
      if ((is_device && (!options_.device_nodes || !privileged_)) ||
          ::mknodat(dir.get(), name.c_str(), type | (mode & 0777), device) != 0) {
        ++stats.skipped;  // unprivileged: a device node cannot be made, and is not needed
        return;
      }
      break;
    }
    default:
      hostile(raw, "unsupported entry type");
  }

  if (options_.preserve_owner && privileged_) {
    ::fchownat(dir.get(), name.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
               static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW);
  }
  if (type != AE_IFLNK) ::fchmodat(dir.get(), name.c_str(), mode, 0);  // we just made it: no link
  if (options_.xattrs && type != AE_IFLNK) {
    std::string proc = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + name;
    archive_entry_xattr_reset(entry);
    const char* key = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
      ::lsetxattr(proc.c_str(), key, value, size, 0);
    }
  }
  struct timespec times[2] = {{archive_entry_mtime(entry), 0}, {archive_entry_mtime(entry), 0}};
  if (type == AE_IFDIR) {
    directory_times_.emplace_back(path, times[1]);  // children would bump it: set at the end
  } else {
    ::utimensat(dir.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

void Applier::finish() {
  for (auto it = directory_times_.rbegin(); it != directory_times_.rend(); ++it) {
    auto resolved = resolve_dir(split(it->first), false, it->first);
    if (!resolved || support::join(*resolved, "/") != it->first) continue;
    struct timespec times[2] = {it->second, it->second};
    ::utimensat(root_fd_, it->first.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

struct ReaderDeleter {
  void operator()(archive* reader) const { archive_read_free(reader); }
};

}  // namespace

UnpackStats apply_layer(const fs::path& layer_file, const fs::path& rootfs, const UnpackOptions& options) {
  std::error_code error;
  fs::create_directories(rootfs, error);
  Fd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    throw Error(ErrorKind::Io, rootfs.string(), std::strerror(errno), "check the rootfs path");
  }
  std::unique_ptr<archive, ReaderDeleter> reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), layer_file.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw Error(ErrorKind::Io, layer_file.string(), archive_error_string(reader.get()),
                "check the layer file exists and is a tar");
  }
  UnpackStats stats;
  Applier applier(root.get(), layer_file.filename().string(), options);
  archive_entry* entry = nullptr;
  for (;;) {
    int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) {
      throw Error(ErrorKind::Validation, layer_file.string(), archive_error_string(reader.get()),
                  "the layer is truncated or corrupt");
    }
    applier.apply(reader.get(), entry, stats);
  }
  applier.finish();
  return stats;
}

UnpackStats unpack_image(const Layout& layout, const Descriptor& manifest, const fs::path& rootfs,
                         const UnpackOptions& options) {
  UnpackStats total;
  for (const auto& layer : layout.read_manifest(manifest.digest).layers) {
    UnpackStats stats = apply_layer(layout.blob_path(layer.digest), rootfs, options);
    total.entries += stats.entries;
    total.whiteouts += stats.whiteouts;
    total.skipped += stats.skipped;
  }
  return total;
}

}  // namespace cog::builder::oci
