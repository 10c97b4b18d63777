#include "builder/registry/push.hpp"

#include <filesystem>
#include <set>
#include <thread>

#include "builder/oci/image.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "builder/registry/origins.hpp"
#include "builder/registry/parallel.hpp"
#include "builder/registry/progress.hpp"
#include "builder/registry/repository.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

struct ManifestToPush {
  std::string media_type;
  std::string bytes;
  oci::Digest digest;
};

// Everything `root` needs in the registry: blobs (deduplicated) and manifests, children first.
struct PushPlan {
  std::vector<oci::Descriptor> blobs;
  std::vector<ManifestToPush> manifests;
};

void plan_manifest(const oci::Layout& layout, const oci::Descriptor& descriptor, PushPlan& plan,
                   std::set<oci::Digest>& seen) {
  std::string bytes = layout.read_blob(descriptor.digest);
  auto add_blob = [&](const oci::Descriptor& blob) {
    if (seen.insert(blob.digest).second) plan.blobs.push_back(blob);
  };
  if (oci::media_type::is_index(descriptor.media_type)) {
    for (const auto& child : oci::parse_index(bytes).manifests)
      if (oci::media_type::is_manifest(child.media_type) || oci::media_type::is_index(child.media_type))
        plan_manifest(layout, child, plan, seen);
      else
        add_blob(child);  // an artifact blob listed in the index
  } else {
    auto manifest = oci::parse_manifest(bytes);
    add_blob(manifest.config);
    for (const auto& layer : manifest.layers) add_blob(layer);
  }
  plan.manifests.push_back(ManifestToPush{descriptor.media_type, std::move(bytes), descriptor.digest});
}

std::string short_id(const oci::Digest& digest) { return digest.hex.substr(0, 12); }

// Uploads one blob: skip, mount, or send it (monolithic or chunked), resuming after failures.
class BlobUploader {
 public:
  BlobUploader(Repository& repository, const oci::Layout& layout, const TransferOptions& options, Progress& progress,
               TransferStats& stats)
      : repository_(repository),
        layout_(layout),
        origins_(layout.root()),
        options_(options),
        progress_(progress),
        stats_(stats),
        http_(repository.client().connect()) {}

  void push(const oci::Descriptor& blob) {
    auto line = progress_.add(short_id(blob.digest), blob.size);
    if (auto size = repository_.blob_size(*http_, blob.digest); size && *size == blob.size) {
      ++stats_.blobs_existing;
      progress_.finish(line, "Layer already exists");
      remember(blob);
      return;
    }
    std::optional<UploadSession> session;
    for (const auto& from : origins_.repositories(blob.digest, registry())) {
      if (from == repository_.name()) continue;
      session = repository_.start_upload(*http_, &blob.digest, from);
      if (!session) {
        ++stats_.blobs_mounted;
        progress_.finish(line, "Mounted from " + from);
        remember(blob);
        return;
      }
      break;  // the registry started a plain upload instead: use it
    }
    upload(blob, line, session);
    ++stats_.blobs_uploaded;
    progress_.finish(line, "Pushed");
    remember(blob);
  }

 private:
  const std::string& registry() const { return repository_.client().registry(); }
  void remember(const oci::Descriptor& blob) { origins_.remember(blob.digest, registry(), repository_.name()); }

  FileSlice slice(const std::string& path, std::int64_t offset, std::int64_t size, std::size_t line,
                  std::int64_t base) {
    auto sent = std::make_shared<std::int64_t>(base);
    return FileSlice{path, offset, size, [this, line, sent](std::int64_t n) {
                       *sent += n;
                       progress_.update(line, *sent);
                     }};
  }

  void upload(const oci::Descriptor& blob, std::size_t line, std::optional<UploadSession> session) {
    std::string path = layout_.blob_path(blob.digest).string();
    std::error_code error;
    auto on_disk = std::filesystem::file_size(path, error);
    if (error || static_cast<std::int64_t>(on_disk) != blob.size)
      throw Error(ErrorKind::Io, path, "the blob " + blob.digest.str() + " is missing or has the wrong size",
                  "rebuild the image");
    bool chunked = blob.size > options_.multipart_threshold;
    int failures = 0;
    auto failed = [&](const std::string& what) {
      if (++failures >= options_.client.max_attempts * 2)
        throw Error(
            ErrorKind::Io, registry() + "/" + repository_.name(),
            "uploading blob " + blob.digest.str() + " failed " + std::to_string(failures) + " times (" + what + ")",
            "check your network and try again");
      ++stats_.retries;
      std::this_thread::sleep_for(options_.client.retry_backoff * std::min(failures, 8));
    };
    while (true) {
      if (!session) session = repository_.start_upload(*http_, nullptr);
      if (!chunked) {
        if (repository_.finish_upload(*http_, *session, blob.digest, slice(path, 0, blob.size, line, 0))) {
          stats_.bytes_uploaded += blob.size;
          return;
        }
        session.reset();  // a monolithic upload restarts from scratch
        failed("connection lost");
        continue;
      }
      while (session && session->offset < blob.size) {
        std::int64_t size = std::min(options_.chunk_size, blob.size - session->offset);
        auto next =
            repository_.upload_chunk(*http_, *session, slice(path, session->offset, size, line, session->offset));
        if (next) {
          stats_.bytes_uploaded += next->offset - session->offset;
          session = next;
          continue;
        }
        failed("connection lost during a chunk");
        session = repository_.upload_status(*http_, *session);  // resume where the registry is
        if (session && session->offset > 0) ++stats_.resumed;
        if (session && session->offset > blob.size) session.reset();
      }
      if (session && repository_.finish_upload(*http_, *session, blob.digest, slice(path, 0, 0, line, 0))) return;
      if (session) failed("connection lost while completing");
      session.reset();
    }
  }

  Repository& repository_;
  const oci::Layout& layout_;
  BlobOrigins origins_;
  const TransferOptions& options_;
  Progress& progress_;
  TransferStats& stats_;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace

PushResult push_image(const oci::Layout& layout, const oci::Descriptor& manifest, const Reference& target,
                      const TransferOptions& options) {
  TransferStats local_stats;
  TransferStats& stats = options.stats ? *options.stats : local_stats;
  RegistryClient client(target.registry, options.client, stats);
  Repository repository(client, target.repository, {push_scope(target.repository)});
  Progress progress(options.progress, options.live_progress);

  PushPlan plan;
  std::set<oci::Digest> seen;
  plan_manifest(layout, manifest, plan, seen);

  run_parallel(plan.blobs.size(), options.concurrency, [&]() -> Job {
    auto uploader = std::make_shared<BlobUploader>(repository, layout, options, progress, stats);
    return [uploader, &plan](std::size_t i) { uploader->push(plan.blobs[i]); };
  });

  auto http = client.connect();
  for (std::size_t i = 0; i < plan.manifests.size(); ++i) {
    const auto& item = plan.manifests[i];
    bool is_root = i + 1 == plan.manifests.size();
    std::string reference = is_root && !target.tag.empty() ? target.tag : item.digest.str();
    repository.put_manifest(*http, reference, item.media_type, item.bytes);
  }
  Reference pushed = target;
  pushed.digest.clear();
  return PushResult{pushed.str(), plan.manifests.back().digest};
}

PushResult push_image(const std::string& source, const Reference& target, const TransferOptions& options) {
  auto image = oci::parse_image_reference(source);
  if (image.transport == oci::ImageReference::Transport::Oci) {
    auto layout = oci::Layout::open(image.path);
    std::string tag = image.name.empty() ? "latest" : image.name;
    auto manifest = layout.find(tag);
    if (!manifest)
      throw Error(ErrorKind::NotFound, image.path.string(), "the layout has no image tagged '" + tag + "'",
                  "check the tag after `oci:DIR:`");
    return push_image(layout, *manifest, target, options);
  }
  oci::ImageStore store(oci::default_store_path());
  auto manifest = oci::load_image(image, store.layout());
  return push_image(store.layout(), manifest, target, options);
}

}  // namespace cog::builder::registry
