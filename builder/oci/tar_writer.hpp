#pragma once
// Deterministic layer tars: the same tree gives the same bytes whatever the order the file system
// lists it in, whatever the on-disk mtimes (clamped), whoever owns the files (unless asked).
// Entries are PAX/ustar, sorted by path, parents before children, compressed with a fixed gzip
// header (no name, mtime 0) in fixed-size blocks so that compression runs on every core.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "builder/oci/descriptor.hpp"

namespace cog::builder::oci {

struct LayerOptions {
  // Directory inside the layer the tree lands in ("src" puts ./a at src/a); empty = the root.
  std::string prefix;
  // Called with the path relative to the source dir ("a/b.txt", '/'-separated); true = leave
  // out (a directory left out takes its whole subtree with it). Empty = keep everything.
  std::function<bool(const std::string& relative_path, bool is_directory)> exclude;
  // mtimes newer than this are clamped to it (SOURCE_DATE_EPOCH); default 0 = all mtimes 0.
  std::int64_t source_date_epoch = 0;
  bool preserve_owner = false;  // keep numeric uid/gid (otherwise 0/0)
  bool xattrs = false;          // record extended attributes as SCHILY.xattr PAX records
  bool compress = true;         // gzip (otherwise a plain tar)
  int gzip_level = 6;
  // Threads compressing in parallel (0 = one per core). The output bytes never depend on it.
  unsigned compression_threads = 0;
};

// One entry to write. Built by the directory walker, adjusted by overlay capture.
struct TarEntry {
  enum class Kind { File, Directory, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };
  std::string path;  // inside the layer, no leading '/', directories without trailing '/'
  Kind kind = Kind::File;
  std::uint32_t mode = 0644;  // permission bits (incl. setuid/setgid/sticky)
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime = 0;
  std::int64_t size = 0;         // File only
  std::filesystem::path source;  // where it is on disk; for a File, the bytes (empty = none)
  std::string link_target;       // Symlink target or Hardlink path (inside the layer)
  std::uint32_t dev_major = 0, dev_minor = 0;
  std::map<std::string, std::string> xattrs;
};

struct LayerBlob {
  std::filesystem::path file;  // the (compressed) tar on disk
  Digest diff_id;              // sha256 of the uncompressed tar
  Digest digest;               // sha256 of `file`
  std::int64_t size = 0;       // bytes of `file`
  std::string media_type;      // oci_layer_gzip or oci_layer_tar

  Descriptor descriptor() const { return {media_type, digest, size, {}, std::nullopt}; }
};

// Walks `dir` into sorted entries (hardlinks detected by inode, prefix parents included).
std::vector<TarEntry> collect_entries(const std::filesystem::path& dir, const LayerOptions& options);

// Writes entries (sorted by path by the caller or not: they are sorted here) as a layer.
LayerBlob write_layer(std::vector<TarEntry> entries, const std::filesystem::path& out_file,
                      const LayerOptions& options);

// collect_entries + write_layer.
LayerBlob write_layer_from_directory(const std::filesystem::path& dir, const std::filesystem::path& out_file,
                                     const LayerOptions& options = {});

}  // namespace cog::builder::oci
