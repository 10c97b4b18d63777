#include "builder/oci/layout.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <functional>

#include "builder/oci/files.hpp"
#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;
namespace {

constexpr const char* layout_marker = R"({"imageLayoutVersion":"1.0.0"})";
constexpr const char* lock_name = ".cog-index.lock";
constexpr const char* leases_dir = ".cog-leases";

// Digests named by leases whose process still runs; stale leases are deleted.
std::set<Digest> leased_digests(const fs::path& root) {
  std::set<Digest> digests;
  std::error_code error;
  if (!fs::is_directory(root / leases_dir, error)) return digests;
  for (const auto& lease : fs::directory_iterator(root / leases_dir, error)) {
    std::string name = lease.path().filename().string();
    pid_t pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
      fs::remove(lease.path(), error);
      continue;
    }
    std::ifstream in(lease.path());
    for (std::string line; std::getline(in, line);) {
      if (auto digest = Digest::try_parse(line)) digests.insert(*digest);
    }
  }
  return digests;
}

std::optional<std::string> ref_name(const Descriptor& descriptor) {
  auto it = descriptor.annotations.find(ref_name_annotation);
  if (it == descriptor.annotations.end()) return std::nullopt;
  return it->second;
}

}  // namespace

BlobLease::BlobLease(const fs::path& layout_root) {
  fs::create_directories(layout_root / leases_dir);
  file_ = layout_root / leases_dir / files::unique_name("");
  std::ofstream(file_, std::ios::app).flush();
}

BlobLease::~BlobLease() {
  std::error_code error;
  fs::remove(file_, error);
}

void BlobLease::add(const Digest& digest) {
  std::ofstream out(file_, std::ios::app);
  out << digest.str() << "\n";
  out.flush();
  if (!out) throw Error(ErrorKind::Io, file_.string(), "cannot record a blob lease", "check free disk space");
}

Layout Layout::create(const fs::path& root) {
  std::error_code error;
  fs::create_directories(root / "blobs" / "sha256", error);
  if (error) throw Error(ErrorKind::Io, root.string(), error.message(), "check permissions");
  Layout layout(root);
  files::Lock lock(root / lock_name);
  if (!fs::exists(root / "oci-layout")) files::write_atomic(root / "oci-layout", layout_marker);
  if (!fs::exists(root / "index.json")) layout.write_index(Index{});
  return layout;
}

Layout Layout::open(const fs::path& root) {
  if (!fs::exists(root / "oci-layout") || !fs::exists(root / "index.json")) {
    throw Error(ErrorKind::NotFound, root.string(), "not an OCI image layout",
                "expected oci-layout and index.json in the directory");
  }
  return Layout(root);
}

fs::path Layout::blob_path(const Digest& digest) const { return root_ / "blobs" / digest.algorithm / digest.hex; }

bool Layout::has_blob(const Digest& digest) const { return fs::exists(blob_path(digest)); }

Descriptor Layout::write_blob(std::string_view data, std::string media_type, const std::optional<Digest>& expected) {
  Digest digest = sha256_of(data);
  if (expected && *expected != digest) {
    throw Error(ErrorKind::Validation, expected->str(), "content does not match its digest (got " + digest.str() + ")",
                "the source is corrupt or was modified; fetch it again");
  }
  if (!has_blob(digest)) {
    fs::create_directories(blob_path(digest).parent_path());
    files::write_atomic(blob_path(digest), data);
  }
  return Descriptor{std::move(media_type), digest, static_cast<std::int64_t>(data.size()), {}, {}};
}

Descriptor Layout::write_blob_file(const fs::path& file, std::string media_type, const std::optional<Digest>& expected,
                                   bool move) {
  Digest digest = sha256_of_file(file);
  if (expected && *expected != digest) {
    throw Error(ErrorKind::Validation, file.string(), "content is " + digest.str() + ", expected " + expected->str(),
                "the source is corrupt or was modified; fetch it again");
  }
  auto size = static_cast<std::int64_t>(fs::file_size(file));
  fs::path destination = blob_path(digest);
  if (!fs::exists(destination)) {
    fs::create_directories(destination.parent_path());
    fs::path temporary = destination.parent_path() / files::unique_name(".tmp-");
    std::error_code error;
    if (move) fs::rename(file, temporary, error);
    if (!move || error) {  // not asked to move, or another file system: copy
      error.clear();
      fs::copy_file(file, temporary, error);
      if (error) throw Error(ErrorKind::Io, file.string(), error.message(), "check free disk space");
      if (move) fs::remove(file, error);
    }
    fs::rename(temporary, destination);
  } else if (move) {
    fs::remove(file);
  }
  return Descriptor{std::move(media_type), digest, size, {}, {}};
}

std::string Layout::read_blob(const Digest& digest) const {
  fs::path file = blob_path(digest);
  if (!fs::exists(file)) {
    throw Error(ErrorKind::NotFound, root_.string(), "blob " + digest.str() + " is missing",
                "pull or rebuild the image");
  }
  return files::read(file);
}

Manifest Layout::read_manifest(const Digest& digest) const {
  std::string text = read_blob(digest);
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_discarded() && media_type::is_index(json.value("mediaType", ""))) {
    // A multi-platform image: take linux/amd64 (what cog builds), else the only entry.
    Index index = parse_index(text);
    for (const auto& entry : index.manifests) {
      if (entry.platform && entry.platform->os == "linux" && entry.platform->architecture == "amd64") {
        return read_manifest(entry.digest);
      }
    }
    if (index.manifests.size() == 1) return read_manifest(index.manifests[0].digest);
    throw Error(ErrorKind::NotFound, digest.str(), "no linux/amd64 image in the index",
                "use an image built for linux/amd64");
  }
  return parse_manifest(text);
}

ImageConfig Layout::read_config(const Manifest& manifest) const {
  return parse_image_config(read_blob(manifest.config.digest));
}

Descriptor Layout::write_config(const ImageConfig& config) {
  return write_blob(canonical_json(config), media_type::oci_config);
}

Descriptor Layout::write_manifest(const Manifest& manifest) {
  return write_blob(canonical_json(manifest), manifest.media_type);
}

Index Layout::index() const { return parse_index(files::read(root_ / "index.json")); }

void Layout::write_index(const Index& index) { files::write_atomic(root_ / "index.json", canonical_json(index)); }

std::vector<TaggedManifest> Layout::list() const {
  std::vector<TaggedManifest> tagged;
  for (const auto& descriptor : index().manifests) {
    if (auto name = ref_name(descriptor)) tagged.push_back({*name, descriptor});
  }
  return tagged;
}

std::optional<Descriptor> Layout::find(std::string_view name) const {
  for (const auto& descriptor : index().manifests) {
    if (ref_name(descriptor) == name) return descriptor;
  }
  return std::nullopt;
}

void Layout::tag(std::string_view name, const Descriptor& manifest) {
  files::Lock lock(root_ / lock_name);
  Index current = index();
  Descriptor entry = manifest;
  entry.annotations[ref_name_annotation] = std::string(name);
  for (auto& existing : current.manifests) {
    if (ref_name(existing) == name) {
      existing = entry;
      write_index(current);
      return;
    }
  }
  current.manifests.push_back(entry);
  write_index(current);
}

bool Layout::untag(std::string_view name) {
  files::Lock lock(root_ / lock_name);
  Index current = index();
  auto removed = std::erase_if(current.manifests, [&](const Descriptor& d) { return ref_name(d) == name; });
  if (removed > 0) write_index(current);
  return removed > 0;
}

void Layout::read_consistently(const std::function<void()>& read) const {
  files::Lock lock(root_ / lock_name);
  read();
}

GcResult Layout::collect_garbage(const std::set<Digest>& extra_roots) {
  files::Lock lock(root_ / lock_name);
  std::set<Digest> live = extra_roots;
  live.merge(leased_digests(root_));
  std::function<void(const Descriptor&)> mark = [&](const Descriptor& descriptor) {
    if (!live.insert(descriptor.digest).second || !has_blob(descriptor.digest)) return;
    if (media_type::is_index(descriptor.media_type)) {
      for (const auto& child : parse_index(read_blob(descriptor.digest)).manifests) mark(child);
    } else if (media_type::is_manifest(descriptor.media_type)) {
      Manifest manifest = parse_manifest(read_blob(descriptor.digest));
      live.insert(manifest.config.digest);
      for (const auto& layer : manifest.layers) live.insert(layer.digest);
    }
  };
  for (const auto& descriptor : index().manifests) mark(descriptor);

  GcResult result;
  for (const auto& algorithm_dir : fs::directory_iterator(root_ / "blobs")) {
    if (!algorithm_dir.is_directory()) continue;
    std::string algorithm = algorithm_dir.path().filename().string();
    for (const auto& blob : fs::directory_iterator(algorithm_dir.path())) {
      std::string hex = blob.path().filename().string();
      if (hex.starts_with('.')) continue;  // an ingest in progress
      auto digest = Digest::try_parse(algorithm + ":" + hex);
      if (!digest || live.contains(*digest)) continue;
      result.bytes_removed += static_cast<std::int64_t>(blob.file_size());
      fs::remove(blob.path());
      ++result.blobs_removed;
    }
  }
  return result;
}

}  // namespace cog::builder::oci
