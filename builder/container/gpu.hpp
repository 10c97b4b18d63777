#pragma once
// `--gpus`: which NVIDIA devices a container gets, and whether the host driver can run the
// image's CUDA. The driver is asked through the CUDA driver API loaded at run time (dlopen), so
// cog itself runs on machines without a GPU or a driver.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "builder/container/cdi.hpp"

namespace cog::builder::container {

// Docker's --gpus syntax: "all", a count ("2"), or "device=0,1" (indices, or names such as
// GPU-<uuid> that CDI specs define); also fully qualified CDI names, "nvidia.com/gpu=all".
struct GpuRequest {
  std::string text;  // as the user wrote it (passed on to docker/podman)
  bool all = false;
  int count = 0;
  std::vector<int> indices;
  std::vector<std::string> names;      // device=<name> entries that are not indices (CDI only)
  std::vector<std::string> cdi_names;  // vendor/class=name
};
GpuRequest parse_gpus(const std::string& text);  // throws cog::Error(Usage)

struct HostGpus {
  std::vector<std::string> gpu_nodes;      // /dev/nvidia0, /dev/nvidia1, ... in index order
  std::vector<std::string> control_nodes;  // /dev/nvidiactl, /dev/nvidia-uvm, ...
};
HostGpus detect_host_gpus(const std::filesystem::path& dev = "/dev");

// The device nodes to pass for `request`: the chosen GPUs plus the control nodes. Throws
// cog::Error with what to do when the host has no (or too few) NVIDIA GPUs.
std::vector<std::string> gpu_devices(const GpuRequest& request, const HostGpus& host);

// How a container gets the GPUs it asked for, by the first that works on this host:
//   Cdi          the devices' CDI edits (specs in cdi_spec_dirs())
//   NvidiaHook   the NVIDIA container toolkit's prestart hook, told which GPUs by NVIDIA_VISIBLE_DEVICES
//   DeviceNodes  the /dev/nvidia* nodes alone (no driver libraries inside: the image must bring them)
struct GpuAccess {
  enum class Method { None, Cdi, NvidiaHook, DeviceNodes };
  Method method = Method::None;
  std::string request;                    // the --gpus text, for docker/podman
  CdiEdits edits;                         // Cdi and NvidiaHook
  std::vector<std::string> device_nodes;  // DeviceNodes (and NvidiaHook)
};

// The CDI device names (nvidia.com/gpu=...) that `request` means under `specs`. Empty when the
// specs define no nvidia.com/gpu devices and the request names no CDI device.
std::vector<std::string> cdi_names_for(const GpuRequest& request, const std::vector<CdiSpec>& specs);

// nvidia-container-runtime-hook (or nvidia-container-toolkit) on PATH or in /usr/bin.
std::optional<std::filesystem::path> find_nvidia_hook();

// Picks the method and what it needs. Throws cog::Error with what to do when nothing on this
// host can provide the GPUs.
GpuAccess plan_gpu_access(const GpuRequest& request, const std::vector<CdiSpec>& specs, const HostGpus& host,
                          const std::optional<std::filesystem::path>& nvidia_hook);

// cuDriverGetVersion of the host's libcuda (e.g. 12040 for CUDA 12.4); nullopt without a driver.
std::optional<int> driver_cuda_version();

// "12.4" → 12040. nullopt for text that is not major.minor[.patch].
std::optional<int> cuda_version_number(const std::string& text);

// Throws cog::Error(Compatibility) when the image's CUDA (major.minor) is newer than what the
// driver supports: the classic "CUDA driver version is insufficient" failure, caught before start.
void check_driver_supports(const std::string& image_cuda, int driver_version);

}  // namespace cog::builder::container
