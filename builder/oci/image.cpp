#include "builder/oci/image.hpp"

#include <ctime>

#include "support/error.hpp"

namespace cog::builder::oci {
namespace {

using nlohmann::json;

json parse_json(std::string_view text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Parse, what, e.what(), "the blob is not valid JSON");
  }
}

std::vector<std::string> string_list(const json& object, const char* key) {
  if (!object.contains(key) || object.at(key).is_null()) return {};
  return object.at(key).get<std::vector<std::string>>();
}

std::vector<std::string> object_keys(const json& object, const char* key) {
  std::vector<std::string> keys;
  if (!object.contains(key) || !object.at(key).is_object()) return keys;
  for (const auto& [name, value] : object.at(key).items()) keys.push_back(name);
  return keys;
}

json keys_object(const std::vector<std::string>& keys) {
  json object = json::object();
  for (const auto& key : keys) object[key] = json::object();
  return object;
}

json runtime_to_json(const RuntimeConfig& config) {
  json out = json::object();
  if (!config.user.empty()) out["User"] = config.user;
  if (!config.env.empty()) out["Env"] = config.env;
  if (config.entrypoint) out["Entrypoint"] = *config.entrypoint;
  if (config.cmd) out["Cmd"] = *config.cmd;
  if (!config.working_dir.empty()) out["WorkingDir"] = config.working_dir;
  if (!config.exposed_ports.empty()) out["ExposedPorts"] = keys_object(config.exposed_ports);
  if (!config.volumes.empty()) out["Volumes"] = keys_object(config.volumes);
  if (!config.labels.empty()) out["Labels"] = config.labels;
  if (!config.stop_signal.empty()) out["StopSignal"] = config.stop_signal;
  return out;
}

RuntimeConfig runtime_from_json(const json& in) {
  RuntimeConfig config;
  if (!in.is_object()) return config;
  config.user = in.value("User", "");
  config.env = string_list(in, "Env");
  if (in.contains("Entrypoint") && !in.at("Entrypoint").is_null()) {
    config.entrypoint = in.at("Entrypoint").get<std::vector<std::string>>();
  }
  if (in.contains("Cmd") && !in.at("Cmd").is_null()) {
    config.cmd = in.at("Cmd").get<std::vector<std::string>>();
  }
  config.working_dir = in.value("WorkingDir", "");
  config.exposed_ports = object_keys(in, "ExposedPorts");
  config.volumes = object_keys(in, "Volumes");
  if (in.contains("Labels") && in.at("Labels").is_object()) {
    config.labels = in.at("Labels").get<std::map<std::string, std::string>>();
  }
  config.stop_signal = in.value("StopSignal", "");
  return config;
}

}  // namespace

void RuntimeConfig::set_env(std::string_view name, std::string_view value) {
  std::string entry = std::string(name) + "=" + std::string(value);
  for (auto& existing : env) {
    if (existing.size() > name.size() && existing.compare(0, name.size(), name) == 0 && existing[name.size()] == '=') {
      existing = entry;
      return;
    }
  }
  env.push_back(std::move(entry));
}

std::optional<std::string> RuntimeConfig::get_env(std::string_view name) const {
  for (const auto& existing : env) {
    if (existing.size() > name.size() && existing.compare(0, name.size(), name) == 0 && existing[name.size()] == '=') {
      return existing.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

json to_json(const ImageConfig& config) {
  json out = {{"architecture", config.platform.architecture}, {"os", config.platform.os}};
  if (!config.platform.variant.empty()) out["variant"] = config.platform.variant;
  if (!config.created.empty()) out["created"] = config.created;
  if (!config.author.empty()) out["author"] = config.author;
  out["config"] = runtime_to_json(config.config);
  json diff_ids = json::array();
  for (const auto& id : config.diff_ids) diff_ids.push_back(id.str());
  out["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  if (!config.history.empty()) {
    json history = json::array();
    for (const auto& entry : config.history) {
      json item = json::object();
      if (!entry.created.empty()) item["created"] = entry.created;
      if (!entry.created_by.empty()) item["created_by"] = entry.created_by;
      if (!entry.comment.empty()) item["comment"] = entry.comment;
      if (entry.empty_layer) item["empty_layer"] = true;
      history.push_back(std::move(item));
    }
    out["history"] = std::move(history);
  }
  return out;
}

json to_json(const Manifest& manifest) {
  json layers = json::array();
  for (const auto& layer : manifest.layers) layers.push_back(to_json(layer));
  json out = {{"schemaVersion", 2},
              {"mediaType", manifest.media_type},
              {"config", to_json(manifest.config)},
              {"layers", layers}};
  if (!manifest.annotations.empty()) out["annotations"] = manifest.annotations;
  return out;
}

json to_json(const Index& index) {
  json manifests = json::array();
  for (const auto& manifest : index.manifests) manifests.push_back(to_json(manifest));
  json out = {{"schemaVersion", 2}, {"mediaType", index.media_type}, {"manifests", manifests}};
  if (!index.annotations.empty()) out["annotations"] = index.annotations;
  return out;
}

ImageConfig parse_image_config(std::string_view text) {
  json in = parse_json(text, "image config");
  try {
    ImageConfig config;
    config.created = in.value("created", "");
    config.author = in.value("author", "");
    config.platform.architecture = in.value("architecture", "");
    config.platform.os = in.value("os", "");
    config.platform.variant = in.value("variant", "");
    if (in.contains("config")) config.config = runtime_from_json(in.at("config"));
    if (in.contains("rootfs")) {
      for (const auto& id : in.at("rootfs").value("diff_ids", json::array())) {
        config.diff_ids.push_back(Digest::parse(id.get<std::string>()));
      }
    }
    for (const auto& item : in.value("history", json::array())) {
      HistoryEntry entry;
      entry.created = item.value("created", "");
      entry.created_by = item.value("created_by", "");
      entry.comment = item.value("comment", "");
      entry.empty_layer = item.value("empty_layer", false);
      config.history.push_back(std::move(entry));
    }
    return config;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Parse, "image config", e.what(), "the config blob is malformed");
  }
}

Manifest parse_manifest(std::string_view text) {
  json in = parse_json(text, "manifest");
  try {
    if (in.value("schemaVersion", 0) != 2) {
      throw Error(ErrorKind::Parse, "manifest", "schemaVersion is not 2",
                  "only OCI and Docker schema 2 manifests are supported");
    }
    Manifest manifest;
    manifest.media_type = in.value("mediaType", media_type::oci_manifest);
    if (!media_type::is_manifest(manifest.media_type)) {
      throw Error(ErrorKind::Parse, "manifest", "unexpected media type " + manifest.media_type,
                  "expected an image manifest, not an index");
    }
    manifest.config = descriptor_from_json(in.at("config"));
    for (const auto& layer : in.value("layers", json::array())) {
      manifest.layers.push_back(descriptor_from_json(layer));
    }
    if (in.contains("annotations")) {
      manifest.annotations = in.at("annotations").get<std::map<std::string, std::string>>();
    }
    return manifest;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Parse, "manifest", e.what(), "the manifest blob is malformed");
  }
}

Index parse_index(std::string_view text) {
  json in = parse_json(text, "index");
  try {
    Index index;
    index.media_type = in.value("mediaType", media_type::oci_index);
    for (const auto& manifest : in.value("manifests", json::array())) {
      index.manifests.push_back(descriptor_from_json(manifest));
    }
    if (in.contains("annotations")) {
      index.annotations = in.at("annotations").get<std::map<std::string, std::string>>();
    }
    return index;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Parse, "index", e.what(), "the index is malformed");
  }
}

std::string canonical_json(const json& value) {
  // nlohmann's object is a std::map: keys come out sorted. No indent = no whitespace.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string canonical_json(const ImageConfig& config) { return canonical_json(to_json(config)); }
std::string canonical_json(const Manifest& manifest) { return canonical_json(to_json(manifest)); }
std::string canonical_json(const Index& index) { return canonical_json(to_json(index)); }

std::string rfc3339(std::int64_t seconds_since_epoch) {
  std::time_t time = static_cast<std::time_t>(seconds_since_epoch);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace cog::builder::oci
