#include "builder/weights/pull.hpp"

#include <algorithm>
#include <map>

#include "builder/oci/layout.hpp"
#include "builder/oci/unpack.hpp"
#include "builder/registry/pull.hpp"
#include "builder/weights/image_weights.hpp"
#include "support/error.hpp"
#include "support/human_size.hpp"
#include "support/scratch_dir.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;

bool is_file_in_layer(const fs::path& root, const std::string& path) {
  if (!is_inner_path(path)) return false;
  const fs::path relative(path);
  fs::path at = root;
  std::error_code error;
  for (auto part = relative.begin(); part != relative.end(); ++part) {
    at /= *part;
    const auto status = fs::symlink_status(at, error);
    if (error) return false;
    const bool last = std::next(part) == relative.end();
    if (last ? !fs::is_regular_file(status) : !fs::is_directory(status)) return false;
  }
  return true;
}

std::vector<WeightStatus> weights_status(const config::Config& config, const WeightsLock* lock,
                                         const ContentStore& store) {
  std::vector<WeightStatus> result;
  for (const auto& weight : config.weights) {
    WeightStatus status{weight.name, weight.target, "", 0, 0, "", lock ? lock->find(weight.name) : nullptr};
    if (!status.locked) {
      status.state = "not imported";
    } else {
      status.files_total = status.locked->files.size();
      for (const auto& file : status.locked->files)
        if (store.has(oci::Digest::parse(file.digest))) ++status.files_cached;
      status.problem = drift(weight, status.locked);
      status.state = !status.problem.empty()                     ? "stale"
                     : status.files_cached == status.files_total ? "cached"
                                                                 : "incomplete";
    }
    result.push_back(std::move(status));
  }
  return result;
}

std::string describe(const WeightStatus& status) {
  if (status.state == "cached")
    return "cached (" + std::to_string(status.files_cached) + "/" + std::to_string(status.files_total) + " files)";
  if (status.state == "incomplete")
    return std::to_string(status.files_total - status.files_cached) + " missing / " +
           std::to_string(status.files_total) + " total";
  if (status.state == "stale") return "stale: " + status.problem + " (run cog weights import)";
  return "not imported (run cog weights import)";
}

void pull_weights(const config::Config& config, const WeightsLock& lock, const WeightsOptions& options) {
  check_names(config, options.names);
  std::ostream* out = options.out;
  ContentStore store(options.cache_dir.empty() ? default_cache_dir() : options.cache_dir);
  std::size_t pulled = 0;
  std::size_t considered = 0;
  for (const auto& status : weights_status(config, &lock, store)) {
    if (!options.names.empty() && !std::count(options.names.begin(), options.names.end(), status.name)) continue;
    ++considered;
    if (!status.locked)
      throw Error(ErrorKind::Validation, lock_path(config).string(), "weight \"" + status.name + "\" is not locked",
                  "run cog weights import first");
    if (status.state == "cached") {
      if (options.verbose && out) *out << "  " << status.name << ": " << describe(status) << "\n";
      continue;
    }
    const LockedWeight& weight = *status.locked;
    if (out)
      *out << "Pulling " << weight.name << " (" << status.files_total - status.files_cached << " missing / "
           << status.files_total << " total)...\n";
    support::ScratchDir scratch(store.root().parent_path() / "tmp", "pull-");
    auto layout = oci::Layout::create(scratch.path / "oci");
    auto manifest =
        registry::pull_image(registry::parse_reference(weight_reference(config, weight)), layout, options.transfer);
    if (manifest.digest.str() != weight.digest)
      throw Error(ErrorKind::Validation, weight_reference(config, weight),
                  "the registry served " + manifest.digest.str(), "run cog weights import again");
    // Unpack only the layers holding missing files, then store those files after checking them.
    std::map<std::string, std::vector<const LockedFile*>> missing_by_layer;
    for (const auto& file : weight.files)
      if (!store.has(oci::Digest::parse(file.digest))) missing_by_layer[file.layer].push_back(&file);
    oci::UnpackOptions unpack;
    unpack.preserve_owner = false;
    unpack.device_nodes = false;
    for (const auto& [layer, files] : missing_by_layer) {
      const fs::path root = scratch.path / ("layer-" + std::to_string(pulled++));
      fs::create_directories(root);
      oci::apply_layer(layout.blob_path(oci::Digest::parse(layer)), root, unpack);
      for (const auto* file : files) {
        const fs::path unpacked = root / file->path;
        if (!is_file_in_layer(root, file->path))
          throw Error(ErrorKind::Validation, weight_reference(config, weight),
                      "layer " + layer + " lacks " + file->path, "run cog weights import again");
        store.add(unpacked, oci::Digest::parse(file->digest), true);  // verifies the digest
        if (options.verbose && out) *out << "  " << file->path << "  " << file->digest << "\n";
      }
    }
    remember_set(store, weight);
    if (out) *out << "Pulled " << weight.name << " (" << support::human_size(weight.size) << ")\n";
  }
  if (pulled == 0 && out) *out << "All " << considered << " weight(s) already cached\n";
}

}  // namespace cog::builder::weights
