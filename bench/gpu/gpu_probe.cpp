// cog-gpu-probe: prints, as one JSON document, what our GPU logic (builder/container/gpu.*,
// cdi.*, runtime_spec.*) sees on this machine, for scripts/gpu-check.sh to set beside what the
// real driver says (nvidia-smi, PyTorch):
//   driver       the CUDA version our dlopen of libcuda.so.1 reads (cuDriverGetVersion)
//   refusal      check_driver_supports for an image CUDA one minor above the driver's (must be
//                refused) and for the driver's own (must pass)
//   host         the /dev/nvidia* nodes, the CDI specs and the NVIDIA hook we find
//   access       plan_gpu_access("--gpus all"): the method and its edits, or the error a user gets
//   oci_spec     the devices, mounts, hooks and env of the config.json runc would get
// Without a driver or a GPU each part says so ("no driver") instead of failing: exit status 0
// whenever the document was written.
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "builder/container/cdi.hpp"
#include "builder/container/gpu.hpp"
#include "builder/container/runtime_spec.hpp"
#include "support/error.hpp"

namespace container = cog::builder::container;
using nlohmann::json;

namespace {

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string error_text(const std::exception& error) {
  if (const auto* typed = dynamic_cast<const cog::Error*>(&error)) return typed->describe();
  return error.what();
}

json refusal(const std::optional<int>& driver) {
  if (!driver) return {{"status", "no driver"}};
  json result;
  const int newer = *driver + 10;  // one minor above what the driver supports
  result["image_cuda_newer"] = version_text(newer);
  try {
    container::check_driver_supports(version_text(newer), *driver);
    result["newer_refused"] = false;
  } catch (const std::exception& error) {
    result["newer_refused"] = true;
    result["newer_error"] = error_text(error);
  }
  try {
    container::check_driver_supports(version_text(*driver), *driver);
    result["same_accepted"] = true;
  } catch (const std::exception& error) {
    result["same_accepted"] = false;
    result["same_error"] = error_text(error);
  }
  result["status"] = result["newer_refused"] == true && result["same_accepted"] == true ? "ok" : "wrong";
  return result;
}

const char* method_name(container::GpuAccess::Method method) {
  switch (method) {
    case container::GpuAccess::Method::Cdi:
      return "cdi";
    case container::GpuAccess::Method::NvidiaHook:
      return "nvidia-hook";
    case container::GpuAccess::Method::DeviceNodes:
      return "device-nodes";
    case container::GpuAccess::Method::None:
      break;
  }
  return "none";
}

json oci_spec_for(const container::GpuAccess& access) {
  container::ContainerSpec spec;
  spec.rootfs = "/nonexistent-rootfs";  // only the GPU parts of the document are read
  spec.args = {"python", "-m", "cog.server.http"};
  spec.env = container::merge_env({"PATH=/usr/local/bin:/usr/bin:/bin"}, access.edits.env);
  spec.extra_devices = access.device_nodes;
  spec.edits = access.edits;
  const json document = container::runtime_spec(spec);
  json gpu_mounts = json::array();
  for (const auto& mount : document.value("mounts", json::array())) {
    const std::string destination = mount.value("destination", "");
    if (destination.find("nvidia") != std::string::npos || destination.find("cuda") != std::string::npos ||
        destination.find("libnv") != std::string::npos) {
      gpu_mounts.push_back(mount);
    }
  }
  return {{"devices", document["linux"].value("devices", json::array())},
          {"driver_mounts", gpu_mounts},
          {"hooks", document.value("hooks", json::object())},
          {"env", document["process"]["env"]}};
}

}  // namespace

int main() {
  json out;
  const auto driver = container::driver_cuda_version();
  out["driver"] = driver ? json{{"status", "ok"}, {"cuda_version", *driver}, {"cuda", version_text(*driver)}}
                         : json{{"status", "no driver"}, {"detail", "libcuda.so.1 could not be loaded"}};
  out["refusal"] = refusal(driver);

  const auto host = container::detect_host_gpus();
  const auto hook = container::find_nvidia_hook();
  json specs = json::array();
  std::vector<container::CdiSpec> loaded;
  try {
    loaded = container::load_cdi_specs(container::cdi_spec_dirs());
    for (const auto& spec : loaded) {
      specs.push_back({{"source", spec.source.string()},
                       {"kind", spec.kind},
                       {"devices", container::cdi_device_names({spec}, spec.kind)}});
    }
  } catch (const std::exception& error) {
    specs = {{{"error", error_text(error)}}};
  }
  out["host"] = {{"gpu_nodes", host.gpu_nodes},
                 {"control_nodes", host.control_nodes},
                 {"nvidia_hook", hook ? json(hook->string()) : json(nullptr)},
                 {"cdi_specs", specs}};

  try {
    const auto access = container::plan_gpu_access(container::parse_gpus("all"), loaded, host, hook);
    json edits = {{"env", access.edits.env},
                  {"device_nodes", json::array()},
                  {"mounts", json::array()},
                  {"hooks", json::array()}};
    for (const auto& node : access.edits.device_nodes) edits["device_nodes"].push_back(node.path);
    for (const auto& mount : access.edits.mounts) edits["mounts"].push_back(mount.host_path);
    for (const auto& entry : access.edits.hooks) edits["hooks"].push_back(entry.hook_name + " " + entry.path);
    out["access"] = {{"status", "ok"},
                     {"method", method_name(access.method)},
                     {"device_nodes", access.device_nodes},
                     {"edits", edits}};
    out["oci_spec"] = oci_spec_for(access);
  } catch (const std::exception& error) {
    const std::string reason = host.gpu_nodes.empty() ? "no GPU" : "refused";
    out["access"] = {{"status", reason}, {"error", error_text(error)}};
    out["oci_spec"] = {{"status", reason}};
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
