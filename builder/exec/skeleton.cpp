#include "builder/exec/skeleton.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

bool is_whiteout(const struct stat& info) { return S_ISCHR(info.st_mode) && info.st_rdev == makedev(0, 0); }

bool is_opaque(const fs::path& dir) {
  char value[4] = {};
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    ssize_t size = lgetxattr(dir.c_str(), name, value, sizeof(value));
    if (size == 1 && value[0] == 'y') return true;
  }
  return false;
}

// What the merged view shows at a relative path, looking at the layers from the newest down to
// `lowest` (the oldest layer an opaque directory above still lets through).
struct Found {
  struct stat info;
  std::size_t layer;  // index into lowers
};

std::optional<Found> look_up(const std::vector<fs::path>& lowers, std::size_t lowest, const fs::path& relative) {
  for (std::size_t i = lowers.size(); i-- > lowest;) {
    struct stat info;
    if (lstat((lowers[i] / relative).c_str(), &info) != 0) continue;
    if (is_whiteout(info)) return std::nullopt;
    return Found{info, i};
  }
  return std::nullopt;
}

struct Created {
  fs::path path;
  struct stat image_info;  // copied once all children exist (creating them moves the mtime)
  bool from_image;
};

void create_dir(const fs::path& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(ErrorKind::Io, path.string(), std::strerror(errno));
}

}  // namespace

void build_skeleton(const std::vector<fs::path>& lowers, const std::vector<MountPoint>& points,
                    const fs::path& skeleton_dir) {
  create_dir(skeleton_dir);
  std::vector<Created> created;
  auto remember = [&](const fs::path& path, const std::optional<Found>& found) {
    for (const auto& entry : created)
      if (entry.path == path) return;
    struct stat none = {};
    created.push_back({path, found ? found->info : none, found.has_value()});
  };
  for (const auto& point : points) {
    const fs::path relative = point.target.relative_path();
    if (relative.empty()) throw Error(ErrorKind::Validation, point.target.string(), "cannot mount over the root");
    std::size_t lowest = 0;
    fs::path prefix;
    for (auto it = relative.begin(); it != relative.end(); ++it) {
      prefix /= *it;
      const bool last = std::next(it) == relative.end();
      auto found = look_up(lowers, lowest, prefix);
      const bool want_dir = !last || point.directory;
      if (found && S_ISLNK(found->info.st_mode))
        throw Error(ErrorKind::Validation, point.target.string(),
                    "mount target passes through the symlink /" + prefix.string() + " in the image",
                    "mount at the path the symlink points to");
      if (found && S_ISDIR(found->info.st_mode) != want_dir)
        throw Error(ErrorKind::Validation, point.target.string(),
                    std::string("mount target /") + prefix.string() + " is " + (want_dir ? "a file" : "a directory") +
                        " in the image",
                    want_dir ? "mount a file there, or choose another target"
                             : "mount a directory there, or choose another target");
      if (found && want_dir && is_opaque(lowers[found->layer] / prefix)) lowest = found->layer;
      const fs::path path = skeleton_dir / prefix;
      if (want_dir) {
        create_dir(path);
      } else {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) throw Error(ErrorKind::Io, path.string(), std::strerror(errno));
        close(fd);
      }
      if (found) remember(path, found);
    }
  }
  // Deepest first, so setting a parent's mtime comes after its children were created.
  std::sort(created.begin(), created.end(), [](const Created& a, const Created& b) {
    return std::distance(a.path.begin(), a.path.end()) > std::distance(b.path.begin(), b.path.end());
  });
  for (const auto& entry : created) {
    if (!entry.from_image) continue;
    const auto& info = entry.image_info;
    if (lchown(entry.path.c_str(), info.st_uid, info.st_gid) != 0 ||
        chmod(entry.path.c_str(), info.st_mode & 07777) != 0)
      throw Error(ErrorKind::Io, entry.path.string(), std::strerror(errno));
    struct timespec times[2] = {info.st_atim, info.st_mtim};
    utimensat(AT_FDCWD, entry.path.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

}  // namespace cog::builder::exec
