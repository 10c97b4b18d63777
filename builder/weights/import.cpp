#include "builder/weights/import.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "builder/oci/image.hpp"
#include "builder/oci/layout.hpp"
#include "builder/oci/tar_writer.hpp"
#include "builder/registry/push.hpp"
#include "builder/weights/content_store.hpp"
#include "builder/weights/image_weights.hpp"
#include "builder/weights/sources.hpp"
#include "support/error.hpp"
#include "support/human_size.hpp"
#include "support/scratch_dir.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;

namespace {

struct HashedFile {
  SourceFile file;
  oci::Digest digest;
  std::int64_t size = 0;
};

std::string now_rfc3339() {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return oci::rfc3339(seconds);
}

std::string fingerprint(const std::vector<HashedFile>& files) {
  std::vector<LockedFile> locked;
  for (const auto& file : files) locked.push_back({file.file.path, file.size, file.digest.str(), ""});
  return set_digest(locked);
}

// One tar layer holding `files` at their paths (parent directories included), written into `layout`.
LockedLayer write_weight_layer(const std::vector<const HashedFile*>& files, bool compress, oci::Layout& layout,
                               const fs::path& scratch) {
  std::vector<oci::TarEntry> entries;
  std::set<std::string> directories;
  for (const auto* file : files) {
    for (auto slash = file->file.path.find('/'); slash != std::string::npos;
         slash = file->file.path.find('/', slash + 1)) {
      directories.insert(file->file.path.substr(0, slash));
    }
    oci::TarEntry entry;
    entry.path = file->file.path;
    entry.mode = 0644;
    entry.size = file->size;
    entry.source = file->file.location;
    entries.push_back(std::move(entry));
  }
  for (const auto& directory : directories) {
    oci::TarEntry entry;
    entry.path = directory;
    entry.kind = oci::TarEntry::Kind::Directory;
    entry.mode = 0755;
    entries.push_back(std::move(entry));
  }
  oci::LayerOptions options;
  options.compress = false;
  const fs::path plain_file = scratch / ("layer-" + files.front()->digest.hex + ".tar");
  auto blob = oci::write_layer(entries, plain_file, options);
  const std::int64_t uncompressed = blob.size;
  if (compress) {
    options.compress = true;
    blob = oci::write_layer(std::move(entries), plain_file.string() + ".gz", options);
    fs::remove(plain_file);
  }
  auto descriptor = layout.write_blob_file(blob.file, blob.media_type, blob.digest, true);
  return {descriptor.digest.str(), blob.media_type, descriptor.size, uncompressed};
}

struct PackedWeight {
  LockedWeight locked;
  oci::Descriptor manifest;
};

PackedWeight pack(const config::Weight& weight, const std::vector<HashedFile>& files, oci::Layout& layout,
                  const fs::path& scratch) {
  PackedWeight packed;
  LockedWeight& locked = packed.locked;
  locked.name = weight.name;
  locked.target = weight.target;
  std::vector<const HashedFile*> small;
  std::vector<std::vector<const HashedFile*>> groups;
  for (const auto& file : files) {
    if (file.size >= kOwnLayerBytes)
      groups.push_back({&file});
    else
      small.push_back(&file);
  }
  if (!small.empty()) groups.insert(groups.begin(), small);
  std::map<std::string, std::string> layer_of_path;
  for (const auto& group : groups) {
    const bool compress = group.size() > 1 || group.front()->size < kOwnLayerBytes;
    LockedLayer layer = write_weight_layer(group, compress, layout, scratch);
    for (const auto* file : group) layer_of_path[file->file.path] = layer.digest;
    locked.size_compressed += layer.size;
    locked.layers.push_back(layer);
  }
  for (const auto& file : files) {
    locked.files.push_back({file.file.path, file.size, file.digest.str(), layer_of_path[file.file.path]});
    locked.size += file.size;
  }
  locked.set_digest = set_digest(locked.files);

  nlohmann::json config_json = {{"name", weight.name}, {"target", weight.target}, {"setDigest", locked.set_digest}};
  auto config_descriptor = layout.write_blob(oci::canonical_json(config_json), kWeightConfigMediaType);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : locked.layers)
    layers.push_back({{"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}});
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", oci::media_type::oci_manifest},
      {"artifactType", kEnvelopeFormat},
      {"config", oci::to_json(config_descriptor)},
      {"layers", layers},
      {"annotations",
       {{kNameAnnotation, weight.name}, {kTargetAnnotation, weight.target}, {kSetDigestAnnotation, locked.set_digest}}},
  };
  packed.manifest = layout.write_blob(oci::canonical_json(manifest), oci::media_type::oci_manifest);
  locked.digest = packed.manifest.digest.str();
  return packed;
}

std::string source_where(const config::Config& config, const config::Weight& weight) {
  for (std::size_t i = 0; i < config.weights.size(); ++i)
    if (config.weights[i].name == weight.name) return "weights[" + std::to_string(i) + "].source";
  return "weights";
}

}  // namespace

void check_names(const config::Config& config, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    bool known =
        std::any_of(config.weights.begin(), config.weights.end(), [&](const auto& w) { return w.name == name; });
    if (!known) {
      std::string declared;
      for (const auto& weight : config.weights) declared += (declared.empty() ? "" : ", ") + weight.name;
      throw Error(ErrorKind::Usage, "cog weights", "no weight named \"" + name + "\" in cog.yaml",
                  declared.empty() ? "add it under weights: in cog.yaml" : "name one of: " + declared);
    }
  }
}

std::string weight_reference(const config::Config& config, const LockedWeight& weight) {
  return config.model + "@" + weight.digest;
}

WeightsLock import_weights(const config::Config& config, const WeightsOptions& options) {
  if (config.weights.empty())
    throw Error(ErrorKind::Usage, config.config_path.string(), "cog.yaml declares no weights",
                "add a weights: list (name, target, source) and a model: repository");
  if (config.model.empty())
    throw Error(ErrorKind::Validation, config.config_path.string(), "weights require 'model' in cog.yaml",
                "add model: <registry>/<owner>/<name>, the bare repository the weights are pushed to");
  check_names(config, options.names);
  std::ostream* out = options.out;
  const fs::path lock_file = lock_path(config);
  const auto previous = read_lock(lock_file);
  WeightsLock lock;
  ContentStore store(options.cache_dir.empty() ? default_cache_dir() : options.cache_dir);
  support::ScratchDir scratch(store.root().parent_path() / "tmp", "import-");
  auto layout = oci::Layout::create(scratch.path / "oci");
  auto model = registry::parse_reference(config.model);

  for (const auto& weight : config.weights) {
    const bool selected = options.names.empty() || std::count(options.names.begin(), options.names.end(), weight.name);
    if (!selected) {
      if (previous && previous->find(weight.name)) lock.weights.push_back(*previous->find(weight.name));
      continue;
    }
    const std::string where = source_where(config, weight);
    if (options.dry_run) {
      if (out) *out << "Would import " << weight.name << " → " << weight.target << "\n";
      for (const auto& source : weight.sources) {
        const bool remote = source.uri.find("://") != std::string::npos && !source.uri.starts_with("file://");
        if (remote) {
          if (out)
            *out << "  " << source.uri << ": would download "
                 << (source.uri.starts_with("hf://") ? hugging_face_url(source.uri, where) : source.uri) << "\n";
          continue;
        }
        auto files = collect_source(source, config.project_dir, scratch.path, where);
        std::int64_t bytes = 0;
        for (const auto& file : files) bytes += static_cast<std::int64_t>(fs::file_size(file.location));
        if (out)
          *out << "  " << source.uri << ": " << files.size() << " file(s), " << support::human_size(bytes) << "\n";
        if (options.verbose && out)
          for (const auto& file : files) *out << "    " << file.path << "\n";
      }
      if (out) *out << "  would push to " << model.name() << "\n";
      continue;
    }
    if (out) *out << "Importing " << weight.name << " → " << weight.target << "\n";
    std::vector<HashedFile> files;
    std::vector<LockedSource> sources;
    std::map<std::string, std::string> source_of_path;
    for (const auto& source : weight.sources) {
      auto collected = collect_source(source, config.project_dir, scratch.path, where);
      std::vector<HashedFile> hashed;
      for (auto& file : collected) {
        if (auto [it, fresh] = source_of_path.emplace(file.path, source.uri); !fresh)
          throw Error(ErrorKind::Validation, where,
                      "\"" + file.path + "\" comes from both " + it->second + " and " + source.uri,
                      "narrow one of the sources with include/exclude");
        HashedFile entry{file, oci::sha256_of_file(file.location),
                         static_cast<std::int64_t>(fs::file_size(file.location))};
        if (options.verbose && out) *out << "  " << entry.file.path << "  " << entry.digest.str() << "\n";
        hashed.push_back(std::move(entry));
      }
      LockedSource locked{source.uri, fingerprint(hashed), source.include, source.exclude, now_rfc3339()};
      if (const LockedWeight* old = previous ? previous->find(weight.name) : nullptr) {
        for (const auto& old_source : old->sources)
          if (old_source.uri == locked.uri && old_source.fingerprint == locked.fingerprint &&
              old_source.include == locked.include && old_source.exclude == locked.exclude)
            locked.imported_at = old_source.imported_at;  // unchanged: the lock stays byte for byte
      }
      sources.push_back(std::move(locked));
      files.insert(files.end(), hashed.begin(), hashed.end());
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.file.path < b.file.path; });
    auto packed = pack(weight, files, layout, scratch.path);
    packed.locked.sources = std::move(sources);
    auto target = model;
    target.tag = "weights-" + weight.name + "-" + packed.locked.set_digest.substr(7, 12);
    target.digest.clear();
    auto result = registry::push_image(layout, packed.manifest, target, options.transfer);
    if (out)
      *out << "  pushed " << files.size() << " file(s), " << support::human_size(packed.locked.size) << " in "
           << packed.locked.layers.size() << " layer(s) to " << result.reference << "@" << result.digest.str() << "\n";
    for (const auto& file : files) store.add(file.file.location, file.digest, file.file.downloaded);
    remember_set(store, packed.locked);
    lock.weights.push_back(std::move(packed.locked));
  }
  if (options.dry_run) return previous.value_or(WeightsLock{});
  write_lock(lock_file, lock);
  if (out) *out << "Wrote " << lock_file.string() << " (" << lock.weights.size() << " weight(s))\n";
  return lock;
}

}  // namespace cog::builder::weights
