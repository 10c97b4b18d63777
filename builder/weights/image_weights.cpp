#include "builder/weights/image_weights.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "builder/config/load.hpp"
#include "builder/oci/image_file.hpp"
#include "builder/oci/store.hpp"
#include "builder/weights/import.hpp"
#include "builder/weights/pull.hpp"
#include "support/error.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) return std::nullopt;
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Entered under a temporary name and renamed: a reader sees the old record or the whole new one.
void write_record(const fs::path& file, const std::string& text) {
  std::error_code error;
  fs::create_directories(file.parent_path(), error);
  const fs::path temporary = file.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    stream << text;
    if (!stream) return;  // a record is an optimisation: failing to write one is no error
  }
  fs::rename(temporary, file, error);
  if (error) fs::remove(temporary, error);
}

fs::path weights_dir(const ContentStore& store) { return store.root().parent_path(); }  // <cache>/weights

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

}  // namespace

std::vector<ImageWeight> parse_runtime_manifest(const std::string& text, const std::string& where) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("weights") || !json["weights"].is_array())
    throw Error(ErrorKind::Parse, where, "expected {\"weights\": [...]}", "rebuild the image with cog build");
  std::vector<ImageWeight> weights;
  for (std::size_t i = 0; i < json["weights"].size(); ++i) {
    const auto& item = json["weights"][i];
    ImageWeight weight;
    for (auto [field, value] :
         {std::pair{"name", &weight.name}, {"target", &weight.target}, {"setDigest", &weight.set_digest}}) {
      if (!item.is_object() || !item.contains(field) || !item[field].is_string() ||
          item[field].get<std::string>().empty())
        throw Error(ErrorKind::Parse, where + ": weights[" + std::to_string(i) + "]." + field,
                    "expected a non-empty string", "rebuild the image with cog build");
      *value = item[field].get<std::string>();
    }
    // The name becomes a directory on this machine and the target a mount in the container.
    const std::string at = where + ": weights[" + std::to_string(i) + "]";
    if (!is_weight_name(weight.name))
      throw Error(ErrorKind::Parse, at + ".name", "\"" + weight.name + "\" is not an OCI-safe weight name",
                  "rebuild the image with cog build");
    if (!is_weight_target(weight.target))
      throw Error(ErrorKind::Parse, at + ".target", "\"" + weight.target + "\" is not an absolute path without . or ..",
                  "rebuild the image with cog build");
    weights.push_back(std::move(weight));
  }
  return weights;
}

std::vector<ImageWeight> stored_image_weights(const std::string& image, const ContentStore& store) {
  oci::ImageStore images(oci::default_store_path());
  const auto descriptor = images.resolve(image);
  const fs::path record = weights_dir(store) / "images" / (descriptor.digest.hex + ".json");
  const std::string where = image + ":/.cog/weights.json";
  if (auto text = read_text(record)) return parse_runtime_manifest(*text, where);
  const auto manifest = images.layout().read_manifest(descriptor.digest);
  const auto text = oci::read_image_file(images.layout(), manifest, ".cog/weights.json").value_or("{\"weights\":[]}");
  auto weights = parse_runtime_manifest(text, where);
  write_record(record, text);
  return weights;
}

void remember_set(const ContentStore& store, const LockedWeight& weight) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& file : weight.files)
    files.push_back({{"path", file.path}, {"size", file.size}, {"digest", file.digest}});
  write_record(weights_dir(store) / "sets" / (hex_of(weight.set_digest) + ".json"),
               nlohmann::ordered_json{{"setDigest", weight.set_digest}, {"files", files}}.dump() + "\n");
}

std::optional<std::vector<LockedFile>> remembered_set(const ContentStore& store, const std::string& set_digest) {
  const auto text = read_text(weights_dir(store) / "sets" / (hex_of(set_digest) + ".json"));
  if (!text) return std::nullopt;
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.contains("files") || !json["files"].is_array()) return std::nullopt;
  std::vector<LockedFile> files;
  for (const auto& item : json["files"]) {
    if (!item.is_object() || !item.value("path", nlohmann::json()).is_string() ||
        !item.value("digest", nlohmann::json()).is_string() || !is_inner_path(item["path"].get<std::string>()) ||
        !oci::Digest::try_parse(item["digest"].get<std::string>()))
      return std::nullopt;
    files.push_back(
        {item["path"].get<std::string>(), item.value("size", std::int64_t{0}), item["digest"].get<std::string>(), ""});
  }
  // A record that does not add up to its name is ignored (then the lock or an error decides).
  if (weights::set_digest(files) != set_digest) return std::nullopt;
  return files;
}

std::unique_ptr<PreparedMounts> prepare_image_mounts(const std::string& image, const fs::path& start_dir,
                                                     const std::string& config_file,
                                                     const registry::TransferOptions& transfer, std::ostream* out) {
  ContentStore store(default_cache_dir());
  const auto wanted = stored_image_weights(image, store);
  if (wanted.empty()) return nullptr;
  // The project around start_dir, when there is one: its lock says where each set is pulled from.
  std::optional<config::LoadedConfig> project;
  std::optional<WeightsLock> lock;
  try {
    project = config::load_config(config::find_config(start_dir, config_file));
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::NotFound) throw;
  }
  if (project) lock = read_lock(lock_path(project->config));

  std::vector<LockedWeight> weights;
  std::vector<std::string> to_pull;
  for (const auto& weight : wanted) {
    const LockedWeight* locked = nullptr;
    if (lock)
      for (const auto& candidate : lock->weights)
        if (candidate.set_digest == weight.set_digest && (!locked || candidate.name == weight.name))
          locked = &candidate;
    LockedWeight mount;
    if (locked) {
      mount = *locked;
      const bool in_config = std::any_of(project->config.weights.begin(), project->config.weights.end(),
                                         [&](const auto& w) { return w.name == locked->name; });
      const bool complete = std::all_of(mount.files.begin(), mount.files.end(), [&](const LockedFile& file) {
        return store.has(oci::Digest::parse(file.digest));
      });
      if (!complete && in_config) to_pull.push_back(locked->name);
    } else if (auto files = remembered_set(store, weight.set_digest)) {
      mount.files = std::move(*files);
      mount.set_digest = weight.set_digest;
    } else {
      throw Error(ErrorKind::NotFound, "weight \"" + weight.name + "\" of " + image,
                  "its files (" + weight.set_digest + ") are neither in the weights cache (" + store.root().string() +
                      ") nor in a weights.lock " + (project ? "of " + project->config.project_dir.string() : "here"),
                  "run cog weights pull in the model's project, or run this command there");
    }
    mount.name = weight.name;  // the image's name and target decide where it is mounted
    mount.target = weight.target;
    weights.push_back(std::move(mount));
  }
  if (!to_pull.empty()) {
    WeightsOptions options;
    options.transfer = transfer;
    options.out = out;
    options.names = to_pull;
    pull_weights(project->config, *lock, options);
  }
  return std::make_unique<PreparedMounts>(weights_dir(store) / "mounts", weights, store);
}

}  // namespace cog::builder::weights
