#include "builder/oci/overlay_layer.hpp"

#include <sys/xattr.h>

#include "builder/oci/descriptor.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;

bool is_opaque_dir(const fs::path& dir) {
  // "trusted." needs CAP_SYS_ADMIN (a rootful overlay); "user." is what `userxattr` mounts use.
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    char value[4] = {};
    ssize_t size = ::lgetxattr(dir.c_str(), name, value, sizeof value);
    if (size == 1 && value[0] == 'y') return true;
  }
  return false;
}

namespace {

TarEntry marker(const std::string& path, std::int64_t mtime) {
  TarEntry entry;
  entry.path = path;
  entry.kind = TarEntry::Kind::File;
  entry.mode = 0644;
  entry.mtime = mtime;
  return entry;
}

std::string with_name(const std::string& path, const std::string& name) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? name : path.substr(0, slash + 1) + name;
}

}  // namespace

std::vector<TarEntry> collect_overlay_entries(const fs::path& upper_dir, const LayerOptions& options) {
  std::vector<TarEntry> entries = collect_entries(upper_dir, options);
  std::vector<TarEntry> markers;
  for (auto& entry : entries) {
    if (entry.kind == TarEntry::Kind::CharDevice && entry.dev_major == 0 && entry.dev_minor == 0) {
      // A deleted file or directory: the char device becomes `.wh.<name>` beside it.
      auto slash = entry.path.rfind('/');
      std::string name = slash == std::string::npos ? entry.path : entry.path.substr(slash + 1);
      TarEntry whiteout = marker(with_name(entry.path, whiteout_prefix + name), entry.mtime);
      entry = std::move(whiteout);
    } else if (entry.kind == TarEntry::Kind::Directory && is_opaque_dir(entry.source)) {
      markers.push_back(marker(entry.path + "/" + whiteout_opaque, entry.mtime));
    }
  }
  entries.insert(entries.end(), markers.begin(), markers.end());
  return entries;  // write_layer sorts
}

LayerBlob write_layer_from_overlay(const fs::path& upper_dir, const fs::path& out_file, const LayerOptions& options) {
  return write_layer(collect_overlay_entries(upper_dir, options), out_file, options);
}

}  // namespace cog::builder::oci
