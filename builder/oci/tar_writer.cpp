#include "builder/oci/tar_writer.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "builder/oci/tar_output.hpp"
#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;
namespace {

std::map<std::string, std::string> read_xattrs(const fs::path& file) {
  std::map<std::string, std::string> xattrs;
  ssize_t length = ::llistxattr(file.c_str(), nullptr, 0);
  if (length <= 0) return xattrs;
  std::string names(static_cast<std::size_t>(length), '\0');
  length = ::llistxattr(file.c_str(), names.data(), names.size());
  if (length <= 0) return xattrs;
  for (std::size_t start = 0; start < static_cast<std::size_t>(length);) {
    std::string name(names.c_str() + start);
    start += name.size() + 1;
    // Overlay bookkeeping and ACL blobs do not belong in an image.
    if (name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.") || name.starts_with("system.")) {
      continue;
    }
    ssize_t size = ::lgetxattr(file.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) continue;
    std::string value(static_cast<std::size_t>(size), '\0');
    size = ::lgetxattr(file.c_str(), name.c_str(), value.data(), value.size());
    if (size < 0) continue;
    value.resize(static_cast<std::size_t>(size));
    xattrs.emplace(std::move(name), std::move(value));
  }
  return xattrs;
}

struct Walker {
  const LayerOptions& options;
  std::vector<TarEntry> entries;
  std::vector<std::pair<dev_t, ino_t>> inodes;  // parallel to entries (0/0 for directories)

  std::string layer_path(const std::string& relative) const {
    return options.prefix.empty() ? relative : options.prefix + "/" + relative;
  }

  void add(const fs::path& source, const std::string& relative, const struct stat& info) {
    TarEntry entry;
    entry.path = layer_path(relative);
    entry.source = source;
    entry.mode = info.st_mode & 07777;
    if (options.preserve_owner) {
      entry.uid = info.st_uid;
      entry.gid = info.st_gid;
    }
    entry.mtime = std::min<std::int64_t>(info.st_mtime, options.source_date_epoch);
    if (entry.mtime < 0) entry.mtime = 0;
    if (S_ISREG(info.st_mode)) {
      entry.kind = TarEntry::Kind::File;
      entry.size = info.st_size;
    } else if (S_ISDIR(info.st_mode)) {
      entry.kind = TarEntry::Kind::Directory;
    } else if (S_ISLNK(info.st_mode)) {
      entry.kind = TarEntry::Kind::Symlink;
      std::error_code error;
      entry.link_target = fs::read_symlink(source, error).string();
      if (error) throw Error(ErrorKind::Io, source.string(), error.message());
    } else if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)) {
      entry.kind = S_ISCHR(info.st_mode) ? TarEntry::Kind::CharDevice : TarEntry::Kind::BlockDevice;
      entry.dev_major = major(info.st_rdev);
      entry.dev_minor = minor(info.st_rdev);
    } else if (S_ISFIFO(info.st_mode)) {
      entry.kind = TarEntry::Kind::Fifo;
    } else {
      return;  // sockets have no tar representation
    }
    if (options.xattrs) entry.xattrs = read_xattrs(source);
    bool linkable = !S_ISDIR(info.st_mode) && info.st_nlink > 1;
    inodes.emplace_back(linkable ? info.st_dev : 0, linkable ? info.st_ino : 0);
    entries.push_back(std::move(entry));
  }

  void walk(const fs::path& dir, const std::string& relative_dir) {
    std::error_code error;
    fs::directory_iterator it(dir, error);
    if (error) throw Error(ErrorKind::Io, dir.string(), error.message(), "check permissions");
    for (const auto& child : it) {
      std::string name = child.path().filename().string();
      std::string relative = relative_dir.empty() ? name : relative_dir + "/" + name;
      struct stat info {};
      if (::lstat(child.path().c_str(), &info) != 0) {
        throw Error(ErrorKind::Io, child.path().string(), std::strerror(errno));
      }
      bool is_directory = S_ISDIR(info.st_mode);
      if (options.exclude && options.exclude(relative, is_directory)) continue;
      add(child.path(), relative, info);
      if (is_directory) walk(child.path(), relative);
    }
  }
};

void link_hardlinks(std::vector<TarEntry>& entries, const std::vector<std::pair<dev_t, ino_t>>& inodes) {
  std::map<std::pair<dev_t, ino_t>, std::string> first_path;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (inodes[i].second == 0) continue;
    auto [it, inserted] = first_path.emplace(inodes[i], entries[i].path);
    if (inserted) continue;
    entries[i].kind = TarEntry::Kind::Hardlink;
    entries[i].link_target = it->second;
    entries[i].size = 0;
  }
}

}  // namespace

std::vector<TarEntry> collect_entries(const fs::path& dir, const LayerOptions& raw_options) {
  LayerOptions options = raw_options;
  while (options.prefix.starts_with('/')) options.prefix.erase(0, 1);
  while (options.prefix.ends_with('/')) options.prefix.pop_back();
  struct stat root_info {};
  if (::stat(dir.c_str(), &root_info) != 0 || !S_ISDIR(root_info.st_mode)) {
    throw Error(ErrorKind::NotFound, dir.string(), "not a directory", "check the path");
  }
  Walker walker{options, {}, {}};
  walker.walk(dir, "");

  // Sort by path, then find hardlinks in that order so the first path holds the bytes.
  std::vector<std::size_t> order(walker.entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return walker.entries[a].path < walker.entries[b].path; });
  std::vector<TarEntry> entries;
  std::vector<std::pair<dev_t, ino_t>> inodes;
  entries.reserve(order.size());
  for (std::size_t i : order) {
    entries.push_back(std::move(walker.entries[i]));
    inodes.push_back(walker.inodes[i]);
  }
  link_hardlinks(entries, inodes);
  return entries;
}

LayerBlob write_layer(std::vector<TarEntry> entries, const fs::path& out_file, const LayerOptions& options) {
  // The prefix and its parents, as directories, unless the caller already listed them.
  std::string prefix = options.prefix;
  while (prefix.starts_with('/')) prefix.erase(0, 1);
  while (prefix.ends_with('/')) prefix.pop_back();
  for (std::size_t end = 0; !prefix.empty() && end != std::string::npos;) {
    end = prefix.find('/', end + 1);
    std::string parent = prefix.substr(0, end);
    bool listed = std::any_of(entries.begin(), entries.end(), [&](const TarEntry& e) { return e.path == parent; });
    if (listed) continue;
    TarEntry directory;
    directory.path = parent;
    directory.kind = TarEntry::Kind::Directory;
    directory.mode = 0755;
    directory.mtime = std::max<std::int64_t>(0, options.source_date_epoch);
    entries.push_back(std::move(directory));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const TarEntry& a, const TarEntry& b) { return a.path < b.path; });
  auto duplicate = std::adjacent_find(entries.begin(), entries.end(),
                                      [](const TarEntry& a, const TarEntry& b) { return a.path == b.path; });
  if (duplicate != entries.end()) {
    throw Error(ErrorKind::Runtime, duplicate->path, "two layer entries with the same path");
  }
  TarOutput output(out_file, options.compress, options.gzip_level, options.compression_threads);
  for (const auto& entry : entries) output.add(entry);
  return output.finish();
}

LayerBlob write_layer_from_directory(const fs::path& dir, const fs::path& out_file, const LayerOptions& options) {
  return write_layer(collect_entries(dir, options), out_file, options);
}

}  // namespace cog::builder::oci
