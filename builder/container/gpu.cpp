#include "builder/container/gpu.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "support/error.hpp"
#include "support/subprocess.hpp"

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

}  // namespace

GpuRequest parse_gpus(const std::string& text) {
  GpuRequest request;
  request.text = text;
  static const std::regex count_pattern(R"(^\d+$)");
  static const std::regex device_pattern(R"re(^"?device=([\w.:-]+(,[\w.:-]+)*)"?$)re");
  static const std::regex cdi_pattern(R"(^[\w.-]+/[\w.-]+=[\w.:-]+(,[\w.-]+/[\w.-]+=[\w.:-]+)*$)");
  std::smatch match;
  auto split = [](const std::string& list) {
    std::vector<std::string> items;
    size_t start = 0;
    while (start < list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      items.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    return items;
  };
  if (text == "all") {
    request.all = true;
  } else if (std::regex_match(text, count_pattern)) {
    request.count = std::stoi(text);
    if (request.count == 0) {
      throw Error(ErrorKind::Usage, "--gpus " + text, "asks for zero GPUs", "use --gpus all, a count, or device=0,1");
    }
  } else if (std::regex_match(text, match, device_pattern)) {
    for (const auto& item : split(match[1])) {
      if (std::regex_match(item, count_pattern)) {
        request.indices.push_back(std::stoi(item));
      } else {
        request.names.push_back(item);
      }
    }
  } else if (std::regex_match(text, cdi_pattern)) {
    request.cdi_names = split(text);
  } else {
    throw Error(ErrorKind::Usage, "--gpus " + text, "not a GPU request docker understands",
                "use --gpus all, a count such as --gpus 2, --gpus device=0,1, or a CDI name such as "
                "nvidia.com/gpu=all");
  }
  return request;
}

HostGpus detect_host_gpus(const fs::path& dev) {
  HostGpus host;
  static const std::regex gpu_node(R"(^nvidia(\d+)$)");
  std::vector<std::pair<int, std::string>> gpus;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dev, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    if (std::regex_match(name, match, gpu_node)) {
      gpus.emplace_back(std::stoi(match[1]), entry.path().string());
    } else if (name == "nvidiactl" || name.starts_with("nvidia-uvm") || name == "nvidia-modeset") {
      host.control_nodes.push_back(entry.path().string());
    }
  }
  std::sort(gpus.begin(), gpus.end());
  for (const auto& [index, path] : gpus) host.gpu_nodes.push_back(path);
  std::sort(host.control_nodes.begin(), host.control_nodes.end());
  return host;
}

std::vector<std::string> gpu_devices(const GpuRequest& request, const HostGpus& host) {
  if (!request.names.empty() || !request.cdi_names.empty()) {
    throw Error(ErrorKind::NotFound, "--gpus " + request.text, "GPUs by name need CDI specs, and there are none",
                "generate them (nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml), or use GPU indices");
  }
  if (host.gpu_nodes.empty()) {
    throw Error(ErrorKind::NotFound, "--gpus", "no NVIDIA GPU on this machine (no /dev/nvidia* devices)",
                "run without --gpus, or install the NVIDIA driver on a machine that has a GPU");
  }
  std::vector<std::string> devices;
  if (request.all) {
    devices = host.gpu_nodes;
  } else if (request.count > 0) {
    if (static_cast<size_t>(request.count) > host.gpu_nodes.size()) {
      throw Error(ErrorKind::NotFound, "--gpus " + std::to_string(request.count),
                  "this machine has " + std::to_string(host.gpu_nodes.size()) + " GPU(s)",
                  "ask for at most " + std::to_string(host.gpu_nodes.size()) + ", or --gpus all");
    }
    devices.assign(host.gpu_nodes.begin(), host.gpu_nodes.begin() + request.count);
  } else {
    for (int index : request.indices) {
      const std::string node = "/dev/nvidia" + std::to_string(index);
      if (std::find(host.gpu_nodes.begin(), host.gpu_nodes.end(), node) == host.gpu_nodes.end()) {
        throw Error(ErrorKind::NotFound, "--gpus device=" + std::to_string(index), "there is no " + node,
                    "pick one of the GPUs under /dev");
      }
      devices.push_back(node);
    }
  }
  devices.insert(devices.end(), host.control_nodes.begin(), host.control_nodes.end());
  return devices;
}

std::vector<std::string> cdi_names_for(const GpuRequest& request, const std::vector<CdiSpec>& specs) {
  const std::string kind = "nvidia.com/gpu";
  if (!request.cdi_names.empty()) return request.cdi_names;
  const auto known = cdi_device_names(specs, kind);
  if (known.empty()) return {};
  std::vector<std::string> names;
  auto is_index = [](const std::string& name) {
    return !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
  };
  if (request.all) {
    // nvidia-ctk writes an "all" device; without one, every device the specs list.
    if (std::find(known.begin(), known.end(), "all") != known.end()) return {kind + "=all"};
    for (const auto& name : known) names.push_back(kind + "=" + name);
    return names;
  }
  if (request.count > 0) {
    std::vector<int> indices;
    for (const auto& name : known) {
      if (is_index(name)) indices.push_back(std::stoi(name));
    }
    std::sort(indices.begin(), indices.end());
    if (indices.size() < static_cast<size_t>(request.count)) {
      throw Error(ErrorKind::NotFound, "--gpus " + request.text,
                  "the CDI specs define " + std::to_string(indices.size()) + " GPU(s)",
                  "ask for at most " + std::to_string(indices.size()) + ", or --gpus all");
    }
    for (int i = 0; i < request.count; ++i) names.push_back(kind + "=" + std::to_string(indices[i]));
    return names;
  }
  for (int index : request.indices) names.push_back(kind + "=" + std::to_string(index));
  for (const auto& name : request.names) names.push_back(kind + "=" + name);
  return names;
}

std::optional<fs::path> find_nvidia_hook() {
  for (const char* name : {"nvidia-container-runtime-hook", "nvidia-container-toolkit"}) {
    if (auto found = support::find_program(name)) return *found;
    const fs::path in_usr_bin = fs::path("/usr/bin") / name;
    if (access(in_usr_bin.c_str(), X_OK) == 0) return in_usr_bin;
  }
  return std::nullopt;
}

GpuAccess plan_gpu_access(const GpuRequest& request, const std::vector<CdiSpec>& specs, const HostGpus& host,
                          const std::optional<fs::path>& nvidia_hook) {
  GpuAccess access;
  access.request = request.text;
  if (auto names = cdi_names_for(request, specs); !names.empty()) {
    access.method = GpuAccess::Method::Cdi;
    access.edits = resolve_cdi_devices(specs, names);
    return access;
  }
  // Throws the clear "no GPU" / "too few GPUs" errors before any hook is considered.
  access.device_nodes = gpu_devices(request, host);
  if (nvidia_hook) {
    // The toolkit's hook (what nvidia-container-runtime adds) mounts the driver libraries and
    // device nodes for the GPUs NVIDIA_VISIBLE_DEVICES names.
    access.method = GpuAccess::Method::NvidiaHook;
    std::string visible;
    if (request.all) {
      visible = "all";
    } else {
      const std::string prefix = "/dev/nvidia";
      for (const auto& node : access.device_nodes) {
        if (!node.starts_with(prefix) || node.find_first_not_of("0123456789", prefix.size()) != std::string::npos) {
          continue;
        }
        visible += (visible.empty() ? "" : ",") + node.substr(prefix.size());
      }
    }
    access.edits.env = {"NVIDIA_VISIBLE_DEVICES=" + visible, "NVIDIA_DRIVER_CAPABILITIES=compute,utility"};
    access.edits.hooks.push_back(
        {"prestart", nvidia_hook->string(), {nvidia_hook->filename().string(), "prestart"}, {}, {}});
    return access;
  }
  access.method = GpuAccess::Method::DeviceNodes;
  return access;
}

std::optional<int> driver_cuda_version() {
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) return std::nullopt;
  using GetVersion = int (*)(int*);
  auto get_version = reinterpret_cast<GetVersion>(dlsym(library, "cuDriverGetVersion"));
  int version = 0;
  // cuDriverGetVersion needs no cuInit and no device; 0 is CUDA_SUCCESS.
  const bool ok = get_version && get_version(&version) == 0 && version > 0;
  dlclose(library);
  if (!ok) return std::nullopt;
  return version;
}

std::optional<int> cuda_version_number(const std::string& text) {
  static const std::regex pattern(R"(^(\d+)\.(\d+)(\.\d+)?$)");
  std::smatch match;
  if (!std::regex_match(text, match, pattern)) return std::nullopt;
  return std::stoi(match[1]) * 1000 + std::stoi(match[2]) * 10;
}

void check_driver_supports(const std::string& image_cuda, int driver_version) {
  const auto wanted = cuda_version_number(image_cuda);
  if (!wanted || *wanted <= driver_version) return;
  throw Error(ErrorKind::Compatibility, "--gpus",
              "the image needs CUDA " + version_text(*wanted) + " but this machine's NVIDIA driver supports CUDA " +
                  version_text(driver_version) + " at most",
              "update the NVIDIA driver, or set build.cuda to " + version_text(driver_version) +
                  " or older in cog.yaml and rebuild");
}

}  // namespace cog::builder::container
