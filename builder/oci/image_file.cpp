#include "builder/oci/image_file.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "support/error.hpp"

namespace cog::builder::oci {
namespace {

struct ReaderDeleter {
  void operator()(archive* reader) const { archive_read_free(reader); }
};

// "./a/b" and "/a/b/" → "a/b".
std::string clean(std::string_view name) {
  while (name.starts_with("./")) name.remove_prefix(2);
  while (name.starts_with('/')) name.remove_prefix(1);
  while (name.ends_with('/')) name.remove_suffix(1);
  return std::string(name);
}

enum class Found { Nothing, File, Hidden };

// Looks for `path` in one layer: its content, or whether a whiteout hides it from lower layers.
Found search_layer(const std::filesystem::path& blob, const std::string& path, std::size_t max_size,
                   std::string& content) {
  std::unique_ptr<archive, ReaderDeleter> reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), blob.c_str(), 1 << 16) != ARCHIVE_OK)
    throw Error(ErrorKind::Io, blob.string(), archive_error_string(reader.get()), "check the image store");
  Found found = Found::Nothing;
  bool hidden = false;
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN)
      throw Error(ErrorKind::Validation, blob.string(), archive_error_string(reader.get()),
                  "the layer is truncated or corrupt: pull or build the image again");
    const char* raw = archive_entry_pathname(entry);
    if (!raw) continue;
    const std::string name = clean(raw);
    if (name == path) {
      if (archive_entry_filetype(entry) != AE_IFREG) return Found::Hidden;  // not a file (e.g. a directory)
      if (archive_entry_size(entry) > static_cast<la_int64_t>(max_size))
        throw Error(ErrorKind::Validation, "/" + path, "is larger than " + std::to_string(max_size) + " bytes",
                    "rebuild the image with cog build");
      content.assign(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
      if (!content.empty() &&
          archive_read_data(reader.get(), content.data(), content.size()) != static_cast<la_ssize_t>(content.size()))
        throw Error(ErrorKind::Validation, blob.string(), "cannot read /" + path, "the layer is truncated or corrupt");
      return Found::File;
    }
    // A whiteout of the file or a directory above it, or an opaque directory above it.
    const auto slash = name.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : name.substr(0, slash);
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    const std::string prefix = dir.empty() ? "" : dir + "/";
    if (base == ".wh..wh..opq") {
      if (path.starts_with(prefix)) hidden = true;  // lower layers hidden; this one may still have it
    } else if (base.starts_with(".wh.")) {
      const std::string removed = prefix + base.substr(4);
      if (path == removed || path.starts_with(removed + "/")) hidden = true;
    }
  }
  return hidden ? Found::Hidden : found;
}

}  // namespace

std::optional<std::string> read_image_file(const Layout& layout, const Manifest& manifest, std::string_view path,
                                           std::size_t max_size) {
  const std::string wanted = clean(path);
  for (auto layer = manifest.layers.rbegin(); layer != manifest.layers.rend(); ++layer) {
    std::string content;
    switch (search_layer(layout.blob_path(layer->digest), wanted, max_size, content)) {
      case Found::File:
        return content;
      case Found::Hidden:
        return std::nullopt;
      case Found::Nothing:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace cog::builder::oci
