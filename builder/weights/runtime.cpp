#include "builder/weights/runtime.hpp"

#include <random>

#include <nlohmann/json.hpp>

#include "builder/oci/image.hpp"
#include "builder/registry/repository.hpp"
#include "builder/registry/reference.hpp"
#include "builder/weights/image_weights.hpp"
#include "builder/weights/import.hpp"
#include "builder/weights/pull.hpp"
#include "support/error.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;

std::string runtime_manifest_json(const WeightsLock& lock) {
  nlohmann::ordered_json weights = nlohmann::ordered_json::array();
  for (const auto& weight : lock.weights)
    weights.push_back({{"name", weight.name}, {"target", weight.target}, {"setDigest", weight.set_digest}});
  return nlohmann::ordered_json{{"weights", weights}}.dump() + "\n";
}

PreparedMounts::PreparedMounts(const fs::path& parent, const std::vector<LockedWeight>& weights,
                               const ContentStore& store) {
  std::random_device random;
  char id[17];
  std::snprintf(id, sizeof id, "%08x%08x", random(), random());
  dir_ = parent / id;
  fs::create_directories(dir_);
  try {
    for (const auto& weight : weights) {
      // Checked where they were read too; here because each becomes a host path under dir_.
      if (!is_weight_name(weight.name))
        throw Error(ErrorKind::Validation, "weight \"" + weight.name + "\"", "is not an OCI-safe weight name",
                    "rebuild the image with cog build");
      const fs::path root = dir_ / weight.name;
      fs::create_directories(root);
      for (const auto& file : weight.files) {
        if (!is_inner_path(file.path))
          throw Error(ErrorKind::Validation, "weight \"" + weight.name + "\"",
                      "file \"" + file.path + "\" is not a relative path without . or ..", "run cog weights import");
        const auto digest = oci::Digest::parse(file.digest);
        if (!store.has(digest))
          throw Error(ErrorKind::NotFound, "weight \"" + weight.name + "\"",
                      file.path + " (" + file.digest + ") is not in the weights cache (" + store.root().string() + ")",
                      "run cog weights pull");
        const fs::path link = root / file.path;
        fs::create_directories(link.parent_path());
        std::error_code error;
        fs::create_hard_link(store.path_of(digest), link, error);
        if (error) fs::copy_file(store.path_of(digest), link, fs::copy_options::overwrite_existing);
      }
      mounts_.push_back({root, weight.target});
      remember_set(store, weight);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    throw;
  }
}

PreparedMounts::~PreparedMounts() {
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
  fs::remove(dir_.parent_path(), ignored);  // .cog/mounts, when it is empty now
}

std::unique_ptr<PreparedMounts> prepare_mounts(const config::Config& config, const registry::TransferOptions& transfer,
                                               std::ostream* out) {
  auto lock = require_current_lock(config);
  if (!lock) return nullptr;
  WeightsOptions options;
  options.transfer = transfer;
  options.out = out;
  ContentStore store(default_cache_dir());
  bool complete = true;
  for (const auto& weight : lock->weights)
    for (const auto& file : weight.files) complete = complete && store.has(oci::Digest::parse(file.digest));
  if (!complete) pull_weights(config, *lock, options);
  return std::make_unique<PreparedMounts>(config.project_dir / ".cog" / "mounts", lock->weights, store);
}

std::string push_weights_index(const std::string& target, const std::string& image_digest, const WeightsLock& lock,
                               const registry::TransferOptions& options) {
  auto ref = registry::parse_reference(target);
  registry::TransferStats local_stats;
  registry::RegistryClient client(ref.registry, options.client, options.stats ? *options.stats : local_stats);
  registry::Repository repository(client, ref.repository, {registry::push_scope(ref.repository)});
  auto http = client.connect();
  auto image = repository.get_manifest(*http, image_digest);
  nlohmann::json manifests = nlohmann::json::array();
  manifests.push_back({{"mediaType", image.media_type},
                       {"digest", image.digest.str()},
                       {"size", image.bytes.size()},
                       {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}});
  for (const auto& weight : lock.weights) {
    registry::RawManifest raw;
    try {
      raw = repository.get_manifest(*http, weight.digest);
    } catch (const Error& error) {
      throw Error(ErrorKind::NotFound, ref.name() + "@" + weight.digest,
                  "weight \"" + weight.name + "\" is not in the repository (" + error.describe() + ")",
                  "run cog weights import to push it");
    }
    manifests.push_back({{"mediaType", raw.media_type},
                         {"digest", raw.digest.str()},
                         {"size", raw.bytes.size()},
                         {"artifactType", kEnvelopeFormat},
                         {"annotations",
                          {{kNameAnnotation, weight.name},
                           {kTargetAnnotation, weight.target},
                           {kSetDigestAnnotation, weight.set_digest}}}});
  }
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", oci::media_type::oci_index}, {"manifests", manifests}};
  auto digest = repository.put_manifest(*http, ref.tag.empty() ? "latest" : ref.tag, oci::media_type::oci_index,
                                        oci::canonical_json(index));
  return digest.str();
}

}  // namespace cog::builder::weights
