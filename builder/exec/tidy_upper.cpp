// tidy_upper (declared in sandbox.hpp): what overlayfs leaves in an upper directory beyond the
// step's changes.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "builder/exec/sandbox.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view overlay_prefix = "trusted.overlay.";
constexpr std::string_view opaque_name = "trusted.overlay.opaque";

// Drops trusted.overlay.* bookkeeping (origin, impure, nlink, …): it names inodes of this
// machine's lower directories and means nothing in a layer. The opaque marker is a change.
void drop_overlay_xattrs(const fs::path& path) {
  ssize_t size = llistxattr(path.c_str(), nullptr, 0);
  if (size <= 0) return;
  std::string names(static_cast<std::size_t>(size), '\0');
  size = llistxattr(path.c_str(), names.data(), names.size());
  if (size <= 0) return;
  names.resize(static_cast<std::size_t>(size));
  for (std::size_t begin = 0; begin < names.size();) {
    std::string name = names.c_str() + begin;
    begin += name.size() + 1;
    if (name.starts_with(overlay_prefix) && name != opaque_name)
      if (lremovexattr(path.c_str(), name.c_str()) != 0 && errno != ENODATA)
        throw Error(ErrorKind::Io, path.string(), "cannot remove " + name + ": " + std::strerror(errno));
  }
}

// overlayfs hard-links all whiteouts to one inode; a layer writer would see hard links. Each
// whiteout gets its own inode with the same timestamps.
void split_whiteout(const fs::path& path, const struct stat& info) {
  if (unlink(path.c_str()) != 0 || mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
    throw Error(ErrorKind::Io, path.string(), std::string("cannot recreate whiteout: ") + std::strerror(errno));
  struct timespec times[2] = {info.st_atim, info.st_mtim};
  utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

}  // namespace

void tidy_upper(const fs::path& upper) {
  std::vector<fs::path> paths = {upper};
  std::error_code error;
  for (fs::recursive_directory_iterator it(upper, fs::directory_options::none, error), end; !error && it != end;
       it.increment(error))
    paths.push_back(it->path());
  if (error) throw Error(ErrorKind::Io, upper.string(), error.message());
  for (const auto& path : paths) {
    struct stat info;
    if (lstat(path.c_str(), &info) != 0) continue;
    drop_overlay_xattrs(path);
    if (S_ISCHR(info.st_mode) && info.st_rdev == makedev(0, 0) && info.st_nlink > 1) split_whiteout(path, info);
  }
  // The upper directory's own mtime says when the step ran; the parent of the layer has none.
}

}  // namespace cog::builder::exec
