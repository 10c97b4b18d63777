#pragma once
// Shared by the oci unit tests: a scratch directory, small file writers, a tar reader.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cog::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cog-oci-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& file, const std::string& content, mode_t mode = 0644) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
  ::chmod(file.c_str(), mode);
}

inline std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct TarItem {
  std::string path;
  mode_t type = 0;
  mode_t perm = 0;
  long uid = 0, gid = 0;
  std::string uname, gname;
  long long mtime = 0;
  std::string link;  // symlink target or hardlink
  bool hardlink = false;
  std::string content;
};

// Every entry of a (compressed or not) tar, in archive order.
inline std::vector<TarItem> read_tar(const std::filesystem::path& file) {
  std::vector<TarItem> items;
  archive* reader = archive_read_new();
  archive_read_support_filter_all(reader);
  archive_read_support_format_tar(reader);
  if (archive_read_open_filename(reader, file.c_str(), 1 << 16) != ARCHIVE_OK) {
    archive_read_free(reader);
    return items;
  }
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    TarItem item;
    item.path = archive_entry_pathname(entry);
    item.type = archive_entry_filetype(entry);
    item.perm = archive_entry_perm(entry);
    item.uid = archive_entry_uid(entry);
    item.gid = archive_entry_gid(entry);
    item.uname = archive_entry_uname(entry) ? archive_entry_uname(entry) : "";
    item.gname = archive_entry_gname(entry) ? archive_entry_gname(entry) : "";
    item.mtime = archive_entry_mtime(entry);
    if (archive_entry_hardlink(entry)) {
      item.hardlink = true;
      item.link = archive_entry_hardlink(entry);
    } else if (archive_entry_symlink(entry)) {
      item.link = archive_entry_symlink(entry);
    }
    char buffer[4096];
    la_ssize_t n = 0;
    while ((n = archive_read_data(reader, buffer, sizeof buffer)) > 0) item.content.append(buffer, n);
    items.push_back(std::move(item));
  }
  archive_read_free(reader);
  return items;
}

// A hand-written tar for hostile-input tests (libarchive, so it is a valid archive).
class TarBuilder {
 public:
  explicit TarBuilder(const std::filesystem::path& file) {
    writer_ = archive_write_new();
    archive_write_set_format_pax_restricted(writer_);
    archive_write_open_filename(writer_, file.c_str());
  }
  ~TarBuilder() { close(); }
  void close() {
    if (writer_ == nullptr) return;
    archive_write_close(writer_);
    archive_write_free(writer_);
    writer_ = nullptr;
  }
  TarBuilder& file(const std::string& path, const std::string& content, mode_t mode = 0644) {
    return add(path, AE_IFREG, mode, content, nullptr, nullptr);
  }
  TarBuilder& dir(const std::string& path, mode_t mode = 0755) {
    return add(path, AE_IFDIR, mode, "", nullptr, nullptr);
  }
  TarBuilder& symlink(const std::string& path, const std::string& target) {
    return add(path, AE_IFLNK, 0777, "", target.c_str(), nullptr);
  }
  TarBuilder& hardlink(const std::string& path, const std::string& target) {
    return add(path, AE_IFREG, 0644, "", nullptr, target.c_str());
  }

 private:
  TarBuilder& add(const std::string& path, mode_t type, mode_t mode, const std::string& content,
                  const char* symlink_target, const char* hardlink_target) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, mode);
    archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
    if (symlink_target) archive_entry_set_symlink(entry, symlink_target);
    if (hardlink_target) {
      archive_entry_set_hardlink(entry, hardlink_target);
      archive_entry_set_size(entry, 0);
    }
    archive_write_header(writer_, entry);
    if (!content.empty()) archive_write_data(writer_, content.data(), content.size());
    archive_entry_free(entry);
    return *this;
  }
  archive* writer_ = nullptr;
};

}  // namespace cog::test
