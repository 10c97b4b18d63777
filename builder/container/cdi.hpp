#pragma once
// The Container Device Interface (CDI): vendor-written specs (nvidia-ctk writes them to /etc/cdi
// or /var/run/cdi) that say which device nodes, mounts, env and hooks a container needs for a
// device. `--gpus` picks devices of kind "nvidia.com/gpu" from them; the edits are merged into the
// OCI runtime spec (runtime_spec.cpp).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cog::builder::container {

struct CdiDeviceNode {
  std::string path;       // inside the container
  std::string host_path;  // "" = path
  std::string type;       // "c", "b", "" = whatever the host node is
  std::optional<int64_t> major, minor;
  std::string permissions;  // cgroup access, "" = "rwm"
  std::optional<uint32_t> file_mode, uid, gid;
};

struct CdiMount {
  std::string host_path;
  std::string container_path;
  std::string type;  // "" = bind
  std::vector<std::string> options;
};

struct CdiHook {
  std::string hook_name;  // prestart, createRuntime, createContainer, startContainer, poststart, poststop
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;
};

// What a device (or a whole spec) asks of the container.
struct CdiEdits {
  std::vector<std::string> env;  // NAME=value
  std::vector<CdiDeviceNode> device_nodes;
  std::vector<CdiMount> mounts;
  std::vector<CdiHook> hooks;

  bool empty() const { return env.empty() && device_nodes.empty() && mounts.empty() && hooks.empty(); }
  void append(const CdiEdits& other);
};

struct CdiDevice {
  std::string name;  // "0", "all", "GPU-<uuid>", ...
  CdiEdits edits;
};

struct CdiSpec {
  std::filesystem::path source;  // the file it came from
  std::string version;           // cdiVersion
  std::string kind;              // vendor/class, e.g. nvidia.com/gpu
  std::vector<CdiDevice> devices;
  CdiEdits edits;  // applied once whenever any of its devices is picked
};

// $COG_CDI_SPEC_DIRS (colon-separated) when set, else /etc/cdi and /var/run/cdi (CDI's defaults).
std::vector<std::filesystem::path> cdi_spec_dirs();

// One spec from JSON or YAML text. `where` names the file in errors (cog::Error(Validation)).
CdiSpec parse_cdi_spec(const std::string& text, const std::string& where);

// Every *.json / *.yaml / *.yml spec in `dirs`, in name order per directory. A later directory
// wins for a kind+device name that an earlier one also defines (as CDI's registry does).
std::vector<CdiSpec> load_cdi_specs(const std::vector<std::filesystem::path>& dirs);

// `names` are fully qualified CDI device names ("nvidia.com/gpu=0"). Returns the merged edits:
// each spec's own edits once, then each named device's. Throws cog::Error(NotFound) naming the
// known devices when one is missing.
CdiEdits resolve_cdi_devices(const std::vector<CdiSpec>& specs, const std::vector<std::string>& names);

// The devices of `kind` the specs define, by name, in spec order.
std::vector<std::string> cdi_device_names(const std::vector<CdiSpec>& specs, const std::string& kind);

}  // namespace cog::builder::container
