#include "builder/registry/pull.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "builder/oci/image.hpp"
#include "builder/registry/origins.hpp"
#include "builder/registry/parallel.hpp"
#include "builder/registry/progress.hpp"
#include "builder/registry/repository.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

namespace fs = std::filesystem;

std::string platform_name(const oci::Platform& platform) {
  return platform.os + "/" + platform.architecture + (platform.variant.empty() ? "" : "/" + platform.variant);
}

// A blob being written to `<layout>/.cog-partial/<hex>`, hashed as it grows.
class PartialBlob {
 public:
  PartialBlob(const fs::path& path) : path_(path) {
    fs::create_directories(path_.parent_path());
    std::error_code error;
    auto existing = fs::file_size(path_, error);
    if (!error && existing > 0) {
      std::ifstream in(path_, std::ios::binary);
      char buffer[1 << 16];
      while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
        hasher_.update(buffer, static_cast<size_t>(in.gcount()));
      size_ = static_cast<std::int64_t>(existing);
    }
    file_ = std::fopen(path_.c_str(), "ab");
    if (!file_)
      throw Error(ErrorKind::Io, path_.string(), "cannot write the download", "check disk space and permissions");
  }
  ~PartialBlob() {
    if (file_) std::fclose(file_);
  }
  PartialBlob(const PartialBlob&) = delete;
  PartialBlob& operator=(const PartialBlob&) = delete;

  std::int64_t size() const { return size_; }
  bool append(const char* data, std::size_t n) {
    if (std::fwrite(data, 1, n, file_) != n) return false;
    hasher_.update(data, n);
    size_ += static_cast<std::int64_t>(n);
    return true;
  }
  void restart() {  // the registry ignored our Range: start over
    std::fclose(file_);
    file_ = std::fopen(path_.c_str(), "wb");
    hasher_ = oci::Sha256();
    size_ = 0;
  }
  oci::Digest close() {
    std::fflush(file_);
    std::fclose(file_);
    file_ = nullptr;
    return hasher_.finish();
  }

 private:
  fs::path path_;
  FILE* file_ = nullptr;
  oci::Sha256 hasher_;
  std::int64_t size_ = 0;
};

class BlobDownloader {
 public:
  BlobDownloader(Repository& repository, oci::Layout& into, const TransferOptions& options, Progress& progress,
                 TransferStats& stats)
      : repository_(repository),
        into_(into),
        options_(options),
        progress_(progress),
        stats_(stats),
        http_(repository.client().connect()) {}

  void fetch(const oci::Descriptor& blob) {
    std::string label = blob.digest.hex.substr(0, 12);
    if (into_.has_blob(blob.digest)) {
      ++stats_.blobs_existing;
      return;
    }
    auto line = progress_.add(label, blob.size);
    auto where = repository_.client().registry() + "/" + repository_.name();
    fs::path partial_path = into_.root() / ".cog-partial" / blob.digest.hex;
    std::error_code error;
    if (auto size = fs::file_size(partial_path, error); !error && static_cast<std::int64_t>(size) > blob.size)
      fs::remove(partial_path, error);
    auto partial = std::make_unique<PartialBlob>(partial_path);
    if (partial->size() > 0) ++stats_.resumed;
    bool too_big = false;
    for (int attempt = 1; partial->size() < blob.size; ++attempt) {
      std::int64_t offset = partial->size();
      bool completed = repository_.fetch_blob(
          *http_, blob.digest, offset,
          [&](std::int64_t start) {
            if (start != partial->size()) partial->restart();  // the registry ignored our Range
          },
          [&](const char* data, std::size_t n) {
            if (partial->size() + static_cast<std::int64_t>(n) > blob.size) {
              too_big = true;
              return false;
            }
            stats_.bytes_downloaded += static_cast<std::int64_t>(n);
            progress_.update(line, partial->size() + static_cast<std::int64_t>(n));
            return partial->append(data, n);
          });
      if (too_big || partial->size() == blob.size) break;
      if (completed && partial->size() == offset)  // a clean answer that sent nothing new
        throw Error(ErrorKind::Io, where,
                    "blob " + blob.digest.str() + " ended early at byte " + std::to_string(offset), "try again");
      if (attempt >= options_.client.max_attempts)
        throw Error(ErrorKind::Io, where,
                    "downloading blob " + blob.digest.str() + " failed " + std::to_string(attempt) + " times",
                    "check your network and try again; the download resumes where it stopped");
      if (partial->size() > 0) ++stats_.resumed;
      ++stats_.retries;
      std::this_thread::sleep_for(options_.client.retry_backoff * attempt);
    }
    auto size = partial->size();
    auto digest = partial->close();
    partial.reset();
    if (too_big || size != blob.size || digest != blob.digest) {
      fs::remove(partial_path, error);
      throw Error(ErrorKind::Io, where,
                  "blob " + blob.digest.str() + " arrived as " + std::to_string(size) + " bytes with digest " +
                      digest.str() + " (expected " + std::to_string(blob.size) + " bytes)",
                  "the registry or a proxy corrupted it; try again");
    }
    into_.write_blob_file(partial_path, blob.media_type, blob.digest, /*move=*/true);
    fs::remove(partial_path, error);
    BlobOrigins(into_.root()).remember(blob.digest, repository_.client().registry(), repository_.name());
    ++stats_.blobs_downloaded;
    progress_.finish(line, "Pull complete");
  }

 private:
  Repository& repository_;
  oci::Layout& into_;
  const TransferOptions& options_;
  Progress& progress_;
  TransferStats& stats_;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace

oci::Descriptor select_platform(const std::string& index_json, const oci::Platform& platform,
                                const std::string& image) {
  auto index = oci::parse_index(index_json);
  std::string offered;
  for (const auto& entry : index.manifests) {
    if (!entry.platform) continue;
    const auto& candidate = *entry.platform;
    offered += (offered.empty() ? "" : ", ") + platform_name(candidate);
    bool variant_ok = platform.variant.empty() || candidate.variant.empty() || platform.variant == candidate.variant;
    if (candidate.os == platform.os && candidate.architecture == platform.architecture && variant_ok) return entry;
  }
  throw Error(ErrorKind::NotFound, image,
              "no image for " + platform_name(platform) +
                  " (the index offers: " + (offered.empty() ? "nothing" : offered) + ")",
              "pick one of those with --platform");
}

oci::Descriptor pull_image(const Reference& ref, oci::Layout& into, const TransferOptions& options) {
  TransferStats local_stats;
  TransferStats& stats = options.stats ? *options.stats : local_stats;
  RegistryClient client(ref.registry, options.client, stats);
  Repository repository(client, ref.repository, {pull_scope(ref.repository)});
  Progress progress(options.progress, options.live_progress);
  auto http = client.connect();

  RawManifest raw = repository.get_manifest(*http, ref.manifest_reference());
  if (oci::media_type::is_index(raw.media_type)) {
    auto chosen = select_platform(raw.bytes, options.platform, ref.str());
    raw = repository.get_manifest(*http, chosen.digest.str());
  }
  if (!oci::media_type::is_manifest(raw.media_type))
    throw Error(ErrorKind::Runtime, ref.str(), "the registry served a " + raw.media_type + ", not an image manifest",
                "check the reference");
  auto manifest = oci::parse_manifest(raw.bytes);
  std::vector<oci::Descriptor> blobs{manifest.config};
  blobs.insert(blobs.end(), manifest.layers.begin(), manifest.layers.end());

  run_parallel(blobs.size(), options.concurrency, [&]() -> Job {
    auto downloader = std::make_shared<BlobDownloader>(repository, into, options, progress, stats);
    return [downloader, &blobs](std::size_t i) { downloader->fetch(blobs[i]); };
  });
  return into.write_blob(raw.bytes, raw.media_type, raw.digest);
}

oci::Descriptor pull_into_store(const std::string& name, oci::ImageStore& store, const TransferOptions& options) {
  const Reference ref = parse_reference(name);
  if (options.progress) *options.progress << "Pulling " << ref.str() << "...\n";
  const oci::Descriptor manifest = pull_image(ref, store.layout(), options);
  store.tag(name, manifest);
  if (options.progress) *options.progress << "Digest: " << manifest.digest.str() << "\n";
  return manifest;
}

bool names_a_registry(const std::string& name) {
  const auto slash = name.find('/');
  if (slash == std::string::npos) return false;
  const std::string first = name.substr(0, slash);
  return first == "localhost" || first.find_first_of(".:[") != std::string::npos;
}

oci::Descriptor find_or_pull(const std::string& name, oci::ImageStore& store, const TransferOptions& options) {
  if (auto found = store.find(name)) return *found;
  if (!names_a_registry(name)) return store.resolve(name);  // its "no such image" error
  return pull_into_store(name, store, options);
}

}  // namespace cog::builder::registry
