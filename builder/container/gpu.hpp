#pragma once
// `--gpus`: which NVIDIA devices a container gets, and whether the host driver can run the
// image's CUDA. The driver is asked through the CUDA driver API loaded at run time (dlopen), so
// cog itself runs on machines without a GPU or a driver.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cog::builder::container {

// Docker's --gpus syntax: "all", a count ("2"), or "device=0,1".
struct GpuRequest {
  bool all = false;
  int count = 0;
  std::vector<int> indices;
};
GpuRequest parse_gpus(const std::string& text);  // throws cog::Error(Usage)

struct HostGpus {
  std::vector<std::string> gpu_nodes;      // /dev/nvidia0, /dev/nvidia1, ... in index order
  std::vector<std::string> control_nodes;  // /dev/nvidiactl, /dev/nvidia-uvm, ...
  std::vector<std::filesystem::path> cdi_specs;  // /etc/cdi, /var/run/cdi
};
HostGpus detect_host_gpus(const std::filesystem::path& dev = "/dev");

// The device nodes to pass for `request`: the chosen GPUs plus the control nodes. Throws
// cog::Error with what to do when the host has no (or too few) NVIDIA GPUs.
std::vector<std::string> gpu_devices(const GpuRequest& request, const HostGpus& host);

// cuDriverGetVersion of the host's libcuda (e.g. 12040 for CUDA 12.4); nullopt without a driver.
std::optional<int> driver_cuda_version();

// "12.4" → 12040. nullopt for text that is not major.minor[.patch].
std::optional<int> cuda_version_number(const std::string& text);

// Throws cog::Error(Compatibility) when the image's CUDA (major.minor) is newer than what the
// driver supports: the classic "CUDA driver version is insufficient" failure, caught before start.
void check_driver_supports(const std::string& image_cuda, int driver_version);

}  // namespace cog::builder::container
