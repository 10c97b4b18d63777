#include "builder/container/cdi.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/error.hpp"
#include "support/text_file.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cog::builder::container {
namespace {

// YAML as JSON with every scalar a string: the readers below accept numbers written either way.
json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& entry : node) object[entry.first.as<std::string>()] = yaml_to_json(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const auto& item : node) array.push_back(yaml_to_json(item));
      return array;
    }
    case YAML::NodeType::Scalar:
      return node.Scalar();
    default:
      return nullptr;
  }
}

// Reads one spec document, naming the JSON path of whatever is malformed.
class SpecReader {
 public:
  explicit SpecReader(std::string where) : where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error(ErrorKind::Validation, where_ + ": " + path, what,
                "fix or remove the CDI spec (nvidia-ctk cdi generate writes a valid one)");
  }

  std::string string(const json& object, const std::string& key, const std::string& path, bool required) const {
    if (!object.contains(key) || object[key].is_null()) {
      if (required) fail(path + "." + key, "is missing");
      return "";
    }
    const json& value = object[key];
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number()) return value.dump();
    fail(path + "." + key, "must be a string");
  }

  std::optional<int64_t> integer(const json& object, const std::string& key, const std::string& path) const {
    if (!object.contains(key) || object[key].is_null()) return std::nullopt;
    const json& value = object[key];
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_string()) {
      const std::string text = value.get<std::string>();
      char* end = nullptr;
      // Base 0: file modes are often written in octal (0666).
      const long long parsed = std::strtoll(text.c_str(), &end, 0);
      if (!text.empty() && end && *end == '\0') return parsed;
    }
    fail(path + "." + key, "must be an integer");
  }

  std::vector<std::string> strings(const json& object, const std::string& key, const std::string& path) const {
    std::vector<std::string> values;
    if (!object.contains(key) || object[key].is_null()) return values;
    if (!object[key].is_array()) fail(path + "." + key, "must be a list of strings");
    for (size_t i = 0; i < object[key].size(); ++i) {
      const json& item = object[key][i];
      if (!item.is_string()) fail(path + "." + key + "[" + std::to_string(i) + "]", "must be a string");
      values.push_back(item.get<std::string>());
    }
    return values;
  }

  const json& list(const json& object, const std::string& key, const std::string& path) const {
    static const json empty = json::array();
    if (!object.contains(key) || object[key].is_null()) return empty;
    if (!object[key].is_array()) fail(path + "." + key, "must be a list");
    return object[key];
  }

  CdiEdits edits(const json& object, const std::string& path) const {
    CdiEdits edits;
    if (object.is_null()) return edits;
    if (!object.is_object()) fail(path, "must be a mapping");
    edits.env = strings(object, "env", path);
    for (const auto& entry : edits.env) {
      if (entry.find('=') == std::string::npos) fail(path + ".env", "\"" + entry + "\" is not NAME=value");
    }
    const json& nodes = list(object, "deviceNodes", path);
    for (size_t i = 0; i < nodes.size(); ++i) {
      const std::string at = path + ".deviceNodes[" + std::to_string(i) + "]";
      if (!nodes[i].is_object()) fail(at, "must be a mapping");
      CdiDeviceNode node;
      node.path = string(nodes[i], "path", at, true);
      node.host_path = string(nodes[i], "hostPath", at, false);
      node.type = string(nodes[i], "type", at, false);
      if (!node.type.empty() && node.type != "c" && node.type != "b" && node.type != "u" && node.type != "p") {
        fail(at + ".type", "must be c, b, u or p");
      }
      node.major = integer(nodes[i], "major", at);
      node.minor = integer(nodes[i], "minor", at);
      node.permissions = string(nodes[i], "permissions", at, false);
      if (node.permissions.find_first_not_of("rwm") != std::string::npos) {
        fail(at + ".permissions", "must be made of r, w and m");
      }
      if (auto mode = integer(nodes[i], "fileMode", at)) node.file_mode = static_cast<uint32_t>(*mode);
      if (auto uid = integer(nodes[i], "uid", at)) node.uid = static_cast<uint32_t>(*uid);
      if (auto gid = integer(nodes[i], "gid", at)) node.gid = static_cast<uint32_t>(*gid);
      edits.device_nodes.push_back(std::move(node));
    }
    const json& mounts = list(object, "mounts", path);
    for (size_t i = 0; i < mounts.size(); ++i) {
      const std::string at = path + ".mounts[" + std::to_string(i) + "]";
      if (!mounts[i].is_object()) fail(at, "must be a mapping");
      edits.mounts.push_back({string(mounts[i], "hostPath", at, true), string(mounts[i], "containerPath", at, true),
                              string(mounts[i], "type", at, false), strings(mounts[i], "options", at)});
    }
    const json& hooks = list(object, "hooks", path);
    static const std::vector<std::string> hook_names = {"prestart",       "createRuntime", "createContainer",
                                                        "startContainer", "poststart",     "poststop"};
    for (size_t i = 0; i < hooks.size(); ++i) {
      const std::string at = path + ".hooks[" + std::to_string(i) + "]";
      if (!hooks[i].is_object()) fail(at, "must be a mapping");
      CdiHook hook;
      hook.hook_name = string(hooks[i], "hookName", at, true);
      if (std::find(hook_names.begin(), hook_names.end(), hook.hook_name) == hook_names.end()) {
        fail(at + ".hookName", "\"" + hook.hook_name +
                                   "\" is not an OCI hook (prestart, createRuntime, "
                                   "createContainer, startContainer, poststart, poststop)");
      }
      hook.path = string(hooks[i], "path", at, true);
      hook.args = strings(hooks[i], "args", at);
      hook.env = strings(hooks[i], "env", at);
      if (auto timeout = integer(hooks[i], "timeout", at)) hook.timeout = static_cast<int>(*timeout);
      edits.hooks.push_back(std::move(hook));
    }
    return edits;
  }

 private:
  std::string where_;
};

bool valid_kind(const std::string& kind) {
  const auto slash = kind.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < kind.size() &&
         kind.find('/', slash + 1) == std::string::npos && kind.find('=') == std::string::npos;
}

}  // namespace

void CdiEdits::append(const CdiEdits& other) {
  env.insert(env.end(), other.env.begin(), other.env.end());
  device_nodes.insert(device_nodes.end(), other.device_nodes.begin(), other.device_nodes.end());
  mounts.insert(mounts.end(), other.mounts.begin(), other.mounts.end());
  hooks.insert(hooks.end(), other.hooks.begin(), other.hooks.end());
}

std::vector<fs::path> cdi_spec_dirs() {
  std::vector<fs::path> dirs;
  if (const char* value = std::getenv("COG_CDI_SPEC_DIRS"); value && *value) {
    std::stringstream list(value);
    for (std::string dir; std::getline(list, dir, ':');) {
      if (!dir.empty()) dirs.emplace_back(dir);
    }
    return dirs;
  }
  return {"/etc/cdi", "/var/run/cdi"};
}

CdiSpec parse_cdi_spec(const std::string& text, const std::string& where) {
  SpecReader reader(where);
  json document;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    document = json::parse(text, nullptr, false);
    if (document.is_discarded()) reader.fail("(document)", "is not valid JSON");
  } else {
    try {
      document = yaml_to_json(YAML::Load(text));
    } catch (const YAML::Exception& error) {
      reader.fail("line " + std::to_string(error.mark.line + 1), "is not valid YAML: " + error.msg);
    }
  }
  if (!document.is_object()) reader.fail("(document)", "must be a mapping with cdiVersion, kind and devices");
  CdiSpec spec;
  spec.source = where;
  spec.version = reader.string(document, "cdiVersion", "", true);
  spec.kind = reader.string(document, "kind", "", true);
  if (!valid_kind(spec.kind)) reader.fail(".kind", "\"" + spec.kind + "\" is not vendor/class (e.g. nvidia.com/gpu)");
  const json& devices = reader.list(document, "devices", "");
  for (size_t i = 0; i < devices.size(); ++i) {
    const std::string at = ".devices[" + std::to_string(i) + "]";
    if (!devices[i].is_object()) reader.fail(at, "must be a mapping");
    CdiDevice device;
    device.name = reader.string(devices[i], "name", at, true);
    if (device.name.empty()) reader.fail(at + ".name", "must not be empty");
    device.edits = reader.edits(devices[i].value("containerEdits", json()), at + ".containerEdits");
    spec.devices.push_back(std::move(device));
  }
  spec.edits = reader.edits(document.value("containerEdits", json()), ".containerEdits");
  return spec;
}

std::vector<CdiSpec> load_cdi_specs(const std::vector<fs::path>& dirs) {
  std::vector<CdiSpec> specs;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto extension = entry.path().extension();
      if (entry.is_regular_file() && (extension == ".json" || extension == ".yaml" || extension == ".yml")) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      CdiSpec spec = parse_cdi_spec(support::read_text_file(file), file.string());
      // A device defined again in a later directory replaces the earlier definition.
      for (auto& earlier : specs) {
        if (earlier.kind != spec.kind) continue;
        std::erase_if(earlier.devices, [&](const CdiDevice& old) {
          return std::any_of(spec.devices.begin(), spec.devices.end(),
                             [&](const CdiDevice& added) { return added.name == old.name; });
        });
      }
      specs.push_back(std::move(spec));
    }
  }
  return specs;
}

std::vector<std::string> cdi_device_names(const std::vector<CdiSpec>& specs, const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& spec : specs) {
    if (spec.kind != kind) continue;
    for (const auto& device : spec.devices) names.push_back(device.name);
  }
  return names;
}

CdiEdits resolve_cdi_devices(const std::vector<CdiSpec>& specs, const std::vector<std::string>& names) {
  CdiEdits edits;
  std::vector<const CdiSpec*> used_specs;
  std::vector<std::pair<const CdiSpec*, const CdiDevice*>> picked;
  for (const auto& qualified : names) {
    const auto equals = qualified.find('=');
    const std::string kind = qualified.substr(0, equals == std::string::npos ? 0 : equals);
    if (equals == std::string::npos || !valid_kind(kind) || equals + 1 == qualified.size()) {
      throw Error(ErrorKind::Usage, "--gpus " + qualified, "not a CDI device name",
                  "write vendor/class=name, e.g. nvidia.com/gpu=0 or nvidia.com/gpu=all");
    }
    const std::string name = qualified.substr(equals + 1);
    const CdiSpec* found_spec = nullptr;
    const CdiDevice* found_device = nullptr;
    for (const auto& spec : specs) {
      if (spec.kind != kind) continue;
      for (const auto& device : spec.devices) {
        if (device.name == name) found_spec = &spec, found_device = &device;
      }
    }
    if (!found_device) {
      const auto known = cdi_device_names(specs, kind);
      std::string list;
      for (const auto& each : known) list += (list.empty() ? "" : ", ") + kind + "=" + each;
      throw Error(
          ErrorKind::NotFound, "--gpus " + qualified,
          known.empty() ? "no CDI spec defines devices of kind " + kind
                        : "no CDI spec defines this device (known: " + list + ")",
          "pick a known device, or regenerate the specs (nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml)");
    }
    if (std::find(used_specs.begin(), used_specs.end(), found_spec) == used_specs.end()) {
      used_specs.push_back(found_spec);
    }
    picked.emplace_back(found_spec, found_device);
  }
  for (const CdiSpec* spec : used_specs) edits.append(spec->edits);
  for (const auto& [spec, device] : picked) edits.append(device->edits);
  return edits;
}

}  // namespace cog::builder::container
