#include "builder/weights/lockfile.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "builder/oci/digest.hpp"
#include "support/error.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

const LockedWeight* WeightsLock::find(const std::string& name) const {
  for (const auto& weight : weights)
    if (weight.name == name) return &weight;
  return nullptr;
}

namespace {

bool is_plain_name(std::string_view part) { return !part.empty() && part != "." && part != ".."; }

// Whether every '/'-separated component of `path` is a plain name.
bool all_plain(std::string_view path) {
  while (true) {
    const auto slash = path.find('/');
    if (!is_plain_name(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

bool is_weight_name(std::string_view name) {
  if (name.empty() || !is_lower_alnum(name.front()) || !is_lower_alnum(name.back())) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (is_lower_alnum(name[i])) continue;
    if (name[i] != '.' && name[i] != '_' && name[i] != '-') return false;
    if (!is_lower_alnum(name[i + 1])) return false;  // separators are single, never last (checked above)
  }
  return true;
}

bool is_inner_path(std::string_view path) { return !path.empty() && path.front() != '/' && all_plain(path); }

bool is_weight_target(std::string_view target) {
  while (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  return target.size() > 1 && target.front() == '/' && all_plain(target.substr(1));
}

std::string set_digest(std::vector<LockedFile> files) {
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  std::string lines;
  for (const auto& file : files) lines += file.digest.substr(file.digest.find(':') + 1) + "  " + file.path + "\n";
  return oci::sha256_of(lines).str();
}

std::string to_json_text(const WeightsLock& lock) {
  ordered_json weights = ordered_json::array();
  for (const auto& weight : lock.weights) {
    ordered_json sources = ordered_json::array();
    for (const auto& source : weight.sources) {
      sources.push_back({{"uri", source.uri},
                         {"fingerprint", source.fingerprint},
                         {"include", source.include},
                         {"exclude", source.exclude},
                         {"importedAt", source.imported_at}});
    }
    ordered_json files = ordered_json::array();
    for (const auto& file : weight.files)
      files.push_back({{"path", file.path}, {"size", file.size}, {"digest", file.digest}, {"layer", file.layer}});
    ordered_json layers = ordered_json::array();
    for (const auto& layer : weight.layers) {
      layers.push_back({{"digest", layer.digest},
                        {"mediaType", layer.media_type},
                        {"size", layer.size},
                        {"sizeUncompressed", layer.size_uncompressed}});
    }
    weights.push_back({{"name", weight.name},
                       {"target", weight.target},
                       {"sources", sources},
                       {"digest", weight.digest},
                       {"setDigest", weight.set_digest},
                       {"size", weight.size},
                       {"sizeCompressed", weight.size_compressed},
                       {"files", files},
                       {"layers", layers}});
  }
  ordered_json root = {{"version", lock.version}, {"envelopeFormat", lock.envelope_format}, {"weights", weights}};
  return root.dump(2) + "\n";
}

namespace {

// Reads a required member of `object`, naming the path when it is missing or of another type.
template <typename T>
T field(const nlohmann::json& object, const std::string& key, const std::string& path, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end())
    throw Error(ErrorKind::Parse, where, path + "." + key + " is missing", "run cog weights import to rewrite it");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::Parse, where, path + "." + key + " has the wrong type",
                "run cog weights import to rewrite it");
  }
}

}  // namespace

WeightsLock parse_lock(const std::string& text, const std::string& where) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, where, std::string("not valid JSON: ") + e.what(),
                "run cog weights import to rewrite it");
  }
  if (!root.is_object()) throw Error(ErrorKind::Parse, where, "not a JSON object", "run cog weights import");
  WeightsLock lock;
  lock.version = field<int>(root, "version", "lock", where);
  if (lock.version != kLockVersion)
    throw Error(ErrorKind::Parse, where, "unsupported version " + std::to_string(lock.version),
                "this cog reads version " + std::to_string(kLockVersion) + "; run cog weights import");
  lock.envelope_format = field<std::string>(root, "envelopeFormat", "lock", where);
  const auto weights = field<nlohmann::json>(root, "weights", "lock", where);
  if (!weights.is_array()) throw Error(ErrorKind::Parse, where, "weights must be a list", "run cog weights import");
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const auto& entry = weights[i];
    const std::string path = "weights[" + std::to_string(i) + "]";
    if (!entry.is_object()) throw Error(ErrorKind::Parse, where, path + " must be an object", "run cog weights import");
    LockedWeight weight;
    weight.name = field<std::string>(entry, "name", path, where);
    weight.target = field<std::string>(entry, "target", path, where);
    if (!is_weight_name(weight.name))
      throw Error(ErrorKind::Parse, where, path + ".name \"" + weight.name + "\" is not an OCI-safe weight name",
                  "run cog weights import to rewrite it");
    if (!is_weight_target(weight.target))
      throw Error(ErrorKind::Parse, where,
                  path + ".target \"" + weight.target + "\" is not an absolute path without . or ..",
                  "run cog weights import to rewrite it");
    weight.digest = field<std::string>(entry, "digest", path, where);
    weight.set_digest = field<std::string>(entry, "setDigest", path, where);
    weight.size = field<std::int64_t>(entry, "size", path, where);
    weight.size_compressed = field<std::int64_t>(entry, "sizeCompressed", path, where);
    for (const auto& source : field<nlohmann::json>(entry, "sources", path, where)) {
      weight.sources.push_back({field<std::string>(source, "uri", path + ".sources", where),
                                field<std::string>(source, "fingerprint", path + ".sources", where),
                                field<std::vector<std::string>>(source, "include", path + ".sources", where),
                                field<std::vector<std::string>>(source, "exclude", path + ".sources", where),
                                field<std::string>(source, "importedAt", path + ".sources", where)});
    }
    for (const auto& file : field<nlohmann::json>(entry, "files", path, where)) {
      weight.files.push_back({field<std::string>(file, "path", path + ".files", where),
                              field<std::int64_t>(file, "size", path + ".files", where),
                              field<std::string>(file, "digest", path + ".files", where),
                              field<std::string>(file, "layer", path + ".files", where)});
      if (!is_inner_path(weight.files.back().path))
        throw Error(ErrorKind::Parse, where,
                    path + ".files: \"" + weight.files.back().path + "\" is not a relative path without . or ..",
                    "run cog weights import to rewrite it");
      if (!oci::Digest::try_parse(weight.files.back().layer))
        throw Error(ErrorKind::Parse, where, path + ".files: \"" + weight.files.back().layer + "\" is not a digest",
                    "run cog weights import to rewrite it");
      if (!oci::Digest::try_parse(weight.files.back().digest))
        throw Error(ErrorKind::Parse, where, path + ".files: \"" + weight.files.back().digest + "\" is not a digest",
                    "run cog weights import to rewrite it");
    }
    for (const auto& layer : field<nlohmann::json>(entry, "layers", path, where)) {
      weight.layers.push_back({field<std::string>(layer, "digest", path + ".layers", where),
                               field<std::string>(layer, "mediaType", path + ".layers", where),
                               field<std::int64_t>(layer, "size", path + ".layers", where),
                               field<std::int64_t>(layer, "sizeUncompressed", path + ".layers", where)});
    }
    lock.weights.push_back(std::move(weight));
  }
  return lock;
}

fs::path lock_path(const config::Config& config) { return config.project_dir / kLockFileName; }

std::optional<WeightsLock> read_lock(const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, file.string(), "cannot read", "check its permissions");
  std::stringstream text;
  text << in.rdbuf();
  return parse_lock(text.str(), file.string());
}

void write_lock(const fs::path& file, const WeightsLock& lock) {
  const fs::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << to_json_text(lock);
    if (!out) throw Error(ErrorKind::Io, file.string(), "cannot write", "check disk space and permissions");
  }
  fs::rename(partial, file);
}

std::string drift(const config::Weight& weight, const LockedWeight* locked) {
  if (!locked) return "weight \"" + weight.name + "\" is not in weights.lock";
  if (locked->target != weight.target)
    return "weight \"" + weight.name + "\" has target " + weight.target + " in cog.yaml but " + locked->target +
           " in weights.lock";
  bool same = locked->sources.size() == weight.sources.size();
  for (std::size_t i = 0; same && i < weight.sources.size(); ++i) {
    const auto& a = weight.sources[i];
    const auto& b = locked->sources[i];
    same = a.uri == b.uri && a.include == b.include && a.exclude == b.exclude;
  }
  if (!same) return "weight \"" + weight.name + "\" has other sources (uri, include or exclude) in cog.yaml";
  return "";
}

std::optional<WeightsLock> require_current_lock(const config::Config& config) {
  if (config.weights.empty()) return std::nullopt;
  const fs::path file = lock_path(config);
  auto lock = read_lock(file);
  if (!lock)
    throw Error(ErrorKind::Validation, config.config_path.string(),
                "cog.yaml declares weights but " + file.string() + " does not exist",
                "run cog weights import to pack and push them");
  std::string problems;
  for (const auto& weight : config.weights) {
    auto difference = drift(weight, lock->find(weight.name));
    if (!difference.empty()) problems += (problems.empty() ? "" : "; ") + difference;
  }
  for (const auto& locked : lock->weights) {
    bool declared = std::any_of(config.weights.begin(), config.weights.end(),
                                [&](const auto& weight) { return weight.name == locked.name; });
    if (!declared)
      problems += (problems.empty() ? "" : "; ") + ("weight \"" + locked.name + "\" is in weights.lock only");
  }
  if (!problems.empty())
    throw Error(ErrorKind::Validation, config.config_path.string(),
                "cog.yaml and " + file.string() + " do not agree: " + problems,
                "run cog weights import to bring weights.lock up to date");
  return lock;
}

}  // namespace cog::builder::weights
