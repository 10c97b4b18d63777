// The `docker save` / `docker load` tarball: manifest.json + <config>.json + <layer>/layer.tar.
#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "builder/oci/files.hpp"
#include "builder/oci/tar_output.hpp"
#include "builder/oci/transport.hpp"
#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;
namespace {

struct ReaderDeleter {
  void operator()(archive* reader) const { archive_read_free(reader); }
};
using Reader = std::unique_ptr<archive, ReaderDeleter>;

// A scratch directory removed on every exit path.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(fs::path where) : path(std::move(where)) { fs::create_directories(path); }
  ~ScratchDir() {
    std::error_code error;
    fs::remove_all(path, error);
  }
};

// "a/./b/../c" -> "a/c"; nullopt when it climbs above the top or is absolute.
std::optional<std::string> normalize(std::string_view path) {
  if (path.starts_with('/')) return std::nullopt;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = std::min(path.find('/', start), path.size());
    std::string part(path.substr(start, end - start));
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(part));
  }
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : "/") + part;
  return joined;
}

std::string sniff_layer_type(const fs::path& file) {
  unsigned char magic[4] = {};
  std::ifstream in(file, std::ios::binary);
  in.read(reinterpret_cast<char*>(magic), sizeof magic);
  if (magic[0] == 0x1f && magic[1] == 0x8b) return media_type::oci_layer_gzip;
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return media_type::oci_layer_zstd;
  }
  return media_type::oci_layer_tar;
}

// The extracted archive: plain files on disk, symlinks (Docker ≥25 links layer dirs to blobs/)
// kept as a map and resolved inside the archive only.
struct Extracted {
  fs::path dir;
  std::map<std::string, std::string> symlinks;

  fs::path file(const std::string& name, const fs::path& archive_path) const {
    auto current = normalize(name);
    for (int hop = 0; current && hop < 16; ++hop) {
      auto link = symlinks.find(*current);
      if (link == symlinks.end()) {
        if (fs::is_regular_file(dir / *current)) return dir / *current;
        break;
      }
      auto slash = current->rfind('/');
      std::string base = slash == std::string::npos ? "" : current->substr(0, slash + 1);
      current = normalize(base + link->second);
    }
    throw Error(ErrorKind::Parse, archive_path.string(), "'" + name + "' is missing from the archive",
                "the docker-archive is incomplete; save it again");
  }
};

Extracted extract(const fs::path& archive_path, const fs::path& into) {
  Reader reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw Error(ErrorKind::NotFound, archive_path.string(), archive_error_string(reader.get()),
                "check the docker-archive path");
  }
  Extracted extracted{into, {}};
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
    auto name = normalize(archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "");
    if (!name || name->empty()) continue;  // never write outside the scratch directory
    if (archive_entry_filetype(entry) == AE_IFLNK) {
      extracted.symlinks[*name] = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
      continue;
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    fs::path target = into / *name;
    fs::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary);
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while (archive_read_data_block(reader.get(), &block, &size, &offset) == ARCHIVE_OK) {
      out.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
    }
    if (!out) throw Error(ErrorKind::Io, target.string(), "could not extract", "check free disk space");
  }
  return extracted;
}

// Decompresses a layer blob (any compression libarchive knows) to a plain tar file.
Digest decompress(const fs::path& blob, const fs::path& out_file) {
  Reader reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(reader.get(), blob.c_str(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) {
    throw Error(ErrorKind::Io, blob.string(), archive_error_string(reader.get()));
  }
  std::ofstream out(out_file, std::ios::binary);
  Sha256 hash;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    la_ssize_t n = archive_read_data(reader.get(), buffer.data(), buffer.size());
    if (n < 0) throw Error(ErrorKind::Io, blob.string(), archive_error_string(reader.get()));
    if (n == 0) break;
    out.write(buffer.data(), n);
    hash.update(buffer.data(), static_cast<std::size_t>(n));
  }
  if (!out) throw Error(ErrorKind::Io, out_file.string(), "write failed", "check free disk space");
  return hash.finish();
}

// Docker's long form, so "demo:v1" matches the "docker.io/library/demo:v1" skopeo writes.
std::string docker_long_name(std::string name) {
  auto slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool has_host = first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost";
  if (slash == std::string::npos)
    name = "docker.io/library/" + name;
  else if (!has_host)
    name = "docker.io/" + name;
  auto last_slash = name.rfind('/');
  if (name.find('@') == std::string::npos && name.find(':', last_slash) == std::string::npos) {
    name += ":latest";
  }
  return name;
}

}  // namespace

Descriptor import_docker_archive(const fs::path& archive_path, std::string_view name, Layout& into) {
  ScratchDir scratch(into.root() / files::unique_name(".cog-import-"));
  Extracted extracted = extract(archive_path, scratch.path);
  nlohmann::json manifests;
  try {
    manifests = nlohmann::json::parse(files::read(extracted.file("manifest.json", archive_path)));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, archive_path.string() + ": manifest.json", e.what());
  }
  if (!manifests.is_array() || manifests.empty()) {
    throw Error(ErrorKind::Parse, archive_path.string(), "manifest.json lists no image",
                "the file is not a docker-archive");
  }
  const nlohmann::json* chosen = &manifests[0];
  if (!name.empty()) {
    chosen = nullptr;
    std::string wanted = docker_long_name(std::string(name));
    for (const auto& item : manifests) {
      for (const auto& tag : item.value("RepoTags", nlohmann::json::array())) {
        if (tag.is_string() && docker_long_name(tag.get<std::string>()) == wanted) chosen = &item;
      }
    }
    if (chosen == nullptr) {
      throw Error(ErrorKind::NotFound, archive_path.string(), "no image tagged '" + std::string(name) + "'",
                  "list the RepoTags in its manifest.json");
    }
  }
  try {
    Manifest manifest;
    fs::path config_file = extracted.file(chosen->at("Config").get<std::string>(), archive_path);
    std::string config_text = files::read(config_file);
    ImageConfig config = parse_image_config(config_text);
    manifest.config = into.write_blob(config_text, media_type::oci_config);
    const auto& layers = chosen->at("Layers");
    if (layers.size() != config.diff_ids.size()) {
      throw Error(ErrorKind::Parse, archive_path.string(),
                  "the config lists " + std::to_string(config.diff_ids.size()) + " layers but manifest.json " +
                      std::to_string(layers.size()),
                  "the docker-archive is inconsistent; save it again");
    }
    for (const auto& layer_name : layers) {
      fs::path layer_file = extracted.file(layer_name.get<std::string>(), archive_path);
      manifest.layers.push_back(into.write_blob_file(layer_file, sniff_layer_type(layer_file), std::nullopt, true));
    }
    return into.write_manifest(manifest);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, archive_path.string() + ": manifest.json", e.what());
  }
}

void export_docker_archive(const Layout& from, const Descriptor& manifest_descriptor, const fs::path& archive_path,
                           const std::vector<std::string>& repo_tags) {
  Manifest manifest = from.read_manifest(manifest_descriptor.digest);
  std::string config_text = from.read_blob(manifest.config.digest);
  ImageConfig config = parse_image_config(config_text);
  if (config.diff_ids.size() != manifest.layers.size()) {
    throw Error(ErrorKind::Validation, manifest_descriptor.digest.str(),
                "config and manifest disagree on the number of layers", "rebuild the image");
  }
  fs::path parent = archive_path.parent_path().empty() ? fs::path(".") : archive_path.parent_path();
  ScratchDir scratch(parent / files::unique_name(".cog-export-"));
  fs::path partial = scratch.path / "archive.tar";
  TarOutput output(partial, false, 0);

  nlohmann::json layer_names = nlohmann::json::array();
  std::set<Digest> written;
  for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
    if (written.contains(config.diff_ids[i])) {  // the same layer twice: one copy is enough
      layer_names.push_back(config.diff_ids[i].hex + "/layer.tar");
      continue;
    }
    written.insert(config.diff_ids[i]);
    fs::path plain = scratch.path / "layer.tar";
    Digest diff_id = decompress(from.blob_path(manifest.layers[i].digest), plain);
    if (diff_id != config.diff_ids[i]) {
      throw Error(ErrorKind::Validation, manifest.layers[i].digest.str(),
                  "uncompressed layer is " + diff_id.str() + ", config says " + config.diff_ids[i].str(),
                  "the stored image is corrupt; rebuild it");
    }
    TarEntry directory;
    directory.path = diff_id.hex;
    directory.kind = TarEntry::Kind::Directory;
    directory.mode = 0755;
    output.add(directory);
    TarEntry layer;
    layer.path = diff_id.hex + "/layer.tar";
    layer.source = plain;
    layer.size = static_cast<std::int64_t>(fs::file_size(plain));
    output.add(layer);
    fs::remove(plain);
    layer_names.push_back(layer.path);
  }
  std::string config_name = manifest.config.digest.hex + ".json";
  output.add_bytes(config_name, config_text);
  nlohmann::json docker_manifest =
      nlohmann::json::array({{{"Config", config_name}, {"RepoTags", repo_tags}, {"Layers", layer_names}}});
  output.add_bytes("manifest.json", docker_manifest.dump());
  output.finish();
  fs::rename(partial, archive_path);
}

}  // namespace cog::builder::oci
