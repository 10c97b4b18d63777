#include "builder/container/gpu.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <regex>

#include "builder/support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

}  // namespace

GpuRequest parse_gpus(const std::string& text) {
  GpuRequest request;
  static const std::regex count_pattern(R"(^\d+$)");
  static const std::regex device_pattern(R"re(^"?device=(\d+(,\d+)*)"?$)re");
  std::smatch match;
  if (text == "all") {
    request.all = true;
  } else if (std::regex_match(text, count_pattern)) {
    request.count = std::stoi(text);
    if (request.count == 0) {
      throw Error(ErrorKind::Usage, "--gpus " + text, "asks for zero GPUs", "use --gpus all, a count, or device=0,1");
    }
  } else if (std::regex_match(text, match, device_pattern)) {
    std::string list = match[1];
    size_t start = 0;
    while (start < list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      request.indices.push_back(std::stoi(list.substr(start, comma - start)));
      start = comma + 1;
    }
  } else {
    throw Error(ErrorKind::Usage, "--gpus " + text, "not a GPU request docker understands",
                "use --gpus all, a count such as --gpus 2, or --gpus device=0,1");
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
    } else if (name == "nvidiactl" || name.rfind("nvidia-uvm", 0) == 0 || name == "nvidia-modeset") {
      host.control_nodes.push_back(entry.path().string());
    }
  }
  std::sort(gpus.begin(), gpus.end());
  for (const auto& [index, path] : gpus) host.gpu_nodes.push_back(path);
  std::sort(host.control_nodes.begin(), host.control_nodes.end());
  for (const char* dir : {"/etc/cdi", "/var/run/cdi"}) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto extension = entry.path().extension();
      if (extension == ".json" || extension == ".yaml") host.cdi_specs.push_back(entry.path());
    }
  }
  return host;
}

std::vector<std::string> gpu_devices(const GpuRequest& request, const HostGpus& host) {
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
