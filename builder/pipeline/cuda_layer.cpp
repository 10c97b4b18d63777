#include "builder/pipeline/cuda_layer.hpp"

#include <algorithm>
#include <sstream>

#include "builder/exec/install_steps.hpp"

namespace cog::builder::pipeline {
namespace {

namespace fs = std::filesystem;

// Requirements that install NVIDIA's CUDA wheels themselves, each pinning its own versions:
// PyPI's (and download.pytorch.org's) CUDA builds of torch, TensorFlow's `and-cuda` extra,
// JAX's `cuda12`/`cuda13` extras. Installing ours first would leave two versions of the same
// libraries in the image (pip replaces ours in a later layer, the old files stay below it), so
// the CUDA layer leaves them all to the requirements step. Returns the requirement, or "".
std::string requirement_bringing_cuda(const config::Config& config) {
  for (const auto& requirement : config.requirements) {
    if (requirement.kind != config::Requirement::Kind::Package) continue;
    const std::string& name = requirement.name;
    const std::string& extras = requirement.extras;
    if (name == "torch" || name == "torchvision" || name == "torchaudio") return requirement.text;
    if (name == "tensorflow" && extras.find("and-cuda") != std::string::npos) return requirement.text;
    if ((name == "jax" || name == "jaxlib") && extras.find("cuda") != std::string::npos) return requirement.text;
  }
  return "";
}

// nvidia-* packages the user lists: their pins win, so the layer does not install them.
bool listed_by_user(const config::Config& config, const std::string& package) {
  return std::any_of(config.requirements.begin(), config.requirements.end(), [&](const auto& requirement) {
    return requirement.kind == config::Requirement::Kind::Package && requirement.name == package;
  });
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::optional<CudaRuntimeLayer> plan_cuda_runtime(const config::Config& completed) {
  const auto& build = completed.build;
  if (!build.gpu) return std::nullopt;
  CudaRuntimeLayer layer;
  const auto library_dirs = cuda_library_dirs(build.cuda, build.python_version);
  std::string cuda_version = build.cuda;
  std::string cudnn_version;

  if (auto bringer = requirement_bringing_cuda(completed); !bringer.empty()) {
    // The libraries come with the requirements step, where the layer's directories still find them.
    layer.note = "`" + bringer +
                 "` installs NVIDIA's CUDA wheels itself (pinned to its build); "
                 "the CUDA layer leaves them to the requirements step";
    layer.description = "CUDA " + build.cuda + " runtime (from the requirements)";
  } else {
    const auto set = cuda_wheels_for(build.cuda, build.cudnn);
    cuda_version = set.cuda_version;
    cudnn_version = set.cudnn_version;
    std::vector<std::string> left_to_user;
    for (const auto& wheel : set.wheels) {
      if (listed_by_user(completed, wheel.package)) {
        left_to_user.push_back(wheel.package);
        continue;
      }
      layer.wheels.push_back(wheel);
      layer.requirements += wheel.package + "==" + wheel.version + "\n";
    }
    if (!left_to_user.empty()) {
      layer.note = "the requirements pin " + join(left_to_user, ", ") + "; the CUDA layer leaves them out";
    }
    layer.description =
        "CUDA " + set.cuda_version + " / cuDNN " + set.cudnn_version + " runtime (NVIDIA wheels from PyPI)";
    // As nvidia/cuda's cuDNN images label themselves.
    layer.labels["com.nvidia.cudnn.version"] = set.cudnn_version;
  }

  // nvidia/cuda's runtime env, with the wheels' directories where those images have
  // /usr/local/cuda/lib64, and /usr/local/nvidia/lib{,64} where GPU runtimes mount the driver.
  std::vector<std::string> path = library_dirs;
  path.push_back("/usr/local/nvidia/lib");
  path.push_back("/usr/local/nvidia/lib64");
  const std::string cuda_minor = cuda_version.substr(0, cuda_version.find('.', cuda_version.find('.') + 1));
  layer.env = {
      {"NVIDIA_VISIBLE_DEVICES", "all"},
      {"NVIDIA_DRIVER_CAPABILITIES", "all"},  // Cog's value (nvidia/cuda: compute,utility)
      {"NVIDIA_REQUIRE_CUDA", "cuda>=" + cuda_minor},
      {"CUDA_VERSION", cuda_version},
      {"LD_LIBRARY_PATH", join(path, ":")},
  };
  if (!cudnn_version.empty()) layer.env.emplace_back("NV_CUDNN_VERSION", cudnn_version);
  return layer;
}

exec::StepSpec cuda_runtime_step(const fs::path& requirements_file, const exec::StepCaches& caches,
                                 std::int64_t source_date_epoch) {
  auto step = exec::pip_install_step(requirements_file, caches, source_date_epoch);
  // --no-deps: the table pins every dependency among the wheels, so nothing unpinned (newer
  // cuBLAS, setuptools from old cu11 metadata) can slip in and the layer depends on the table only.
  std::string pip;
  for (const auto& arg : step.argv) {
    pip += (pip.empty() ? "" : " ") + shell_quote(arg);
    if (arg == "install") pip += " --no-deps";
  }
  std::ostringstream script;
  script << "set -e\n" << pip << "\n";
  // Found where pip put them, not assumed: a --base-image's Python may use site-packages.
  script << "python3 -c 'import glob, os, nvidia\n"
            "for root in nvidia.__path__:\n"
            "    print(*sorted(glob.glob(os.path.join(root, \"*\", \"lib\"))), sep=\"\\n\")'"
            " > /etc/ld.so.conf.d/cog-cuda.conf\n";
  // aux-cache records inodes and times: dropped so the same wheels give the same layer.
  script << "ldconfig\nrm -f /var/cache/ldconfig/aux-cache\n";
  step.argv = {"/bin/sh", "-c", script.str()};
  return step;
}

std::string expand_library_path(std::string_view value, std::string_view current) {
  std::string expanded(value);
  for (const std::string_view reference : {"${LD_LIBRARY_PATH}", "$LD_LIBRARY_PATH"}) {
    for (auto at = expanded.find(reference); at != std::string::npos; at = expanded.find(reference, at)) {
      expanded.replace(at, reference.size(), current);
      at += current.size();
    }
  }
  std::vector<std::string> entries;
  std::istringstream parts(expanded);
  std::string entry;
  while (std::getline(parts, entry, ':')) {
    if (!entry.empty() && std::find(entries.begin(), entries.end(), entry) == entries.end()) {
      entries.push_back(entry);
    }
  }
  return join(entries, ":");
}

}  // namespace cog::builder::pipeline
