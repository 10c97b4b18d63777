// Which image a build starts FROM (reference §3.2): Replicate's cog-base when Cog has one for the
// combination, else nvidia/cuda for GPU configs, else the official python slim image.
#include <algorithm>

#include "builder/config/compat.hpp"

namespace cog::builder::config {
namespace {

// Cog builds cog-base images only from matrix rows at or above these versions.
constexpr std::string_view kCogBaseMinPython = "3.10";
constexpr std::string_view kCogBaseMinTorch = "1.13.1";
constexpr std::string_view kCogBaseMinCuda = "11.6";

bool row_has_cog_base(const TorchRow& row, std::string_view python) {
  if (compare_versions(python, kCogBaseMinPython) < 0) return false;
  if (compare_versions(row.torch, kCogBaseMinTorch) < 0) return false;
  if (row.cuda && compare_versions(*row.cuda, kCogBaseMinCuda) < 0) return false;
  return std::find(row.pythons.begin(), row.pythons.end(), python) != row.pythons.end();
}

std::string unsupported_combination(std::string_view cuda, std::string_view python, std::string_view torch) {
  return "unsupported base image configuration: CUDA: " + std::string(cuda) + " / Python: " + std::string(python) +
         " / Torch: " + std::string(torch);
}

std::string config_label(const Config& config) {
  return config.config_path.empty() ? "cog.yaml" : config.config_path.filename().string();
}

}  // namespace

std::string cog_base_image_tag(std::string_view cuda, std::string_view python, std::string_view torch) {
  std::string tag;
  auto append = [&](std::string_view prefix, std::string_view value) {
    if (value.empty()) return;
    if (!tag.empty()) tag += "-";
    tag += std::string(prefix) + std::string(value);
  };
  append("cuda", cuda.empty() ? "" : major_minor(cuda));
  append("python", python.empty() ? "" : major_minor(python));
  append("torch", strip_local_version(torch));
  return tag.empty() ? "latest" : tag;
}

std::string normalise_torch_for_cog_base(const CompatMatrix& matrix, std::string_view torch) {
  std::string best;
  for (const auto& row : matrix.torch) {
    if (!version_matches(strip_local_version(torch), row.torch)) continue;
    std::string version = strip_local_version(row.torch);
    if (best.empty() || compare_versions(version, best) > 0) best = version;
  }
  return best;
}

bool cog_base_image_exists(const CompatMatrix& matrix, std::string_view cuda, std::string_view python,
                           std::string_view torch) {
  std::string cuda_mm = cuda.empty() ? "" : major_minor(cuda);
  std::string python_mm = major_minor(python);
  return std::any_of(matrix.torch.begin(), matrix.torch.end(), [&](const TorchRow& row) {
    if (!row_has_cog_base(row, python_mm)) return false;
    if (!torch.empty() && strip_local_version(row.torch) != torch) return false;
    // Torch-less images exist for every CUDA (and the CPU) that some torch row is built for.
    if (cuda_mm.empty()) return torch.empty() || !row.cuda;
    return row.cuda && *row.cuda == cuda_mm;
  });
}

std::string cuda_base_image_tag(const CompatMatrix& matrix, std::string_view cuda, std::string_view cudnn) {
  const CudaImageRow* best = nullptr;
  for (const auto& row : matrix.cuda) {
    if (!row.is_devel || row.cudnn != cudnn || !version_matches(cuda, row.cuda)) continue;
    if (!best) {
      best = &row;
      continue;
    }
    int by_cuda = compare_versions(row.cuda, best->cuda);
    if (by_cuda > 0 || (by_cuda == 0 && compare_versions(row.ubuntu, best->ubuntu) > 0)) best = &row;
  }
  if (!best) {
    auto cudnns = cudnns_for_cuda(matrix, cuda);
    std::string known;
    for (const auto& value : cudnns) known += (known.empty() ? "" : ", ") + value;
    throw Error(ErrorKind::Compatibility, "nvidia/cuda",
                "there is no CUDA " + std::string(cuda) + " image with cuDNN " + std::string(cudnn),
                known.empty() ? "set build.cuda to a version Cog supports"
                              : "cuDNN versions available for CUDA " + std::string(cuda) + ": " + known);
  }
  return best->tag;
}

BaseImage choose_base_image(const Config& config, const CompatMatrix& matrix, const BaseImageRequest& request) {
  BaseImage base;
  const auto& build = config.build;
  std::string python = build.python_version;
  std::string cuda = build.gpu ? major_minor(build.cuda) : "";
  std::string torch = pinned_package_version(config, "torch").value_or("");
  std::string torch_for_base = torch.empty() ? "" : normalise_torch_for_cog_base(matrix, torch);
  if (!torch.empty() && torch_for_base.empty()) torch_for_base = strip_local_version(torch);
  base.cog_base_tag = cog_base_image_tag(cuda, python, torch_for_base);

  if (request.use_cog_base_image.value_or(true)) {
    if (cog_base_image_exists(matrix, cuda, python, torch_for_base)) {
      const auto& written = build.python_version_as_written;
      if (!written.empty() && written != python) {
        base.warnings.push_back(
            {config_label(config), "Stripping patch version from Python version " + written + " to " + python, {}});
      }
      base.kind = BaseImageKind::CogBase;
      base.reference = request.registry_host + "/cog-base:" + base.cog_base_tag;
      base.torch_in_base = torch_for_base;
      return base;
    }
    std::string reason = unsupported_combination(cuda, python, torch_for_base);
    if (request.use_cog_base_image.has_value()) {
      throw Error(ErrorKind::Compatibility, config_label(config), reason,
                  "drop --use-cog-base-image, or choose versions Cog publishes a cog-base image for");
    }
    base.warnings.push_back({config_label(config),
                             "Could not find a suitable base image, continuing without base image "
                             "support (" +
                                 reason + ")",
                             {}});
  }

  std::string python_tag = build.python_version_as_written.empty() ? python : build.python_version_as_written;
  if (build.gpu && request.use_cuda_base_image != "false") {
    base.kind = BaseImageKind::Cuda;
    base.cuda_tag = cuda_base_image_tag(matrix, build.cuda, build.cudnn);
    base.reference = "nvidia/cuda:" + base.cuda_tag;
    return base;
  }
  base.kind = BaseImageKind::PythonSlim;
  base.reference = "python:" + python_tag + "-slim";
  return base;
}

}  // namespace cog::builder::config
