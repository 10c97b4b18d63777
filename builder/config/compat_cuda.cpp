// Completion of a GPU config (reference §2.3): which CUDA and cuDNN the image gets, derived from
// an explicit choice, a pinned TensorFlow, a pinned torch, or Cog's default.
#include <algorithm>

#include "builder/config/compat.hpp"
#include "support/text.hpp"

namespace cog::builder::config {
namespace {

// Cog's default when nothing in the config says which CUDA to use.
constexpr std::string_view kDefaultCuda = "11.8";

std::string config_label(const Config& config) {
  return config.config_path.empty() ? "cog.yaml" : config.config_path.filename().string();
}

Error compatibility_error(const Config& config, std::string what, std::string fix = {}) {
  return Error(ErrorKind::Compatibility, config_label(config), std::move(what), std::move(fix));
}

// Where a package is required (`requirements.txt:3`), so pin problems point at the pin.
std::string requirement_location(const Config& config, std::string_view package) {
  for (const auto& requirement : config.requirements) {
    if (requirement.kind == Requirement::Kind::Package && requirement.name == package &&
        !requirement.where.file.empty()) {
      return requirement.where.str();
    }
  }
  return config_label(config);
}

Error pin_error(const Config& config, std::string_view package, std::string what, std::string fix) {
  return Error(ErrorKind::Compatibility, requirement_location(config, package), std::move(what), std::move(fix));
}

// The newest cuDNN with an image for this CUDA, or an error naming the CUDA.
std::string latest_cudnn(const Config& config, const CompatMatrix& matrix, const std::string& cuda) {
  auto cudnns = cudnns_for_cuda(matrix, cuda);
  if (cudnns.empty()) {
    throw compatibility_error(
        config, "CUDA " + cuda + " is not supported by Cog",
        "set build.cuda to a version Cog has a base image for, e.g. \"" + std::string(kDefaultCuda) + "\"");
  }
  return cudnns.front();
}

void check_explicit_pair(const Config& config, const CompatMatrix& matrix) {
  const auto& build = config.build;
  auto cudnns = cudnns_for_cuda(matrix, build.cuda);
  if (cudnns.empty()) latest_cudnn(config, matrix, build.cuda);  // throws "not supported"
  if (std::find(cudnns.begin(), cudnns.end(), build.cudnn) == cudnns.end()) {
    throw compatibility_error(config,
                              "CUDA " + build.cuda + " is incompatible with CuDNN " + build.cudnn +
                                  ": compatible CuDNN versions are: " + support::join(cudnns, ", "),
                              "set build.cudnn to one of them, or remove it to pick the newest");
  }
}

void complete_from_tensorflow(Config& config, const TensorflowRow& row, const std::string& version,
                              std::vector<Warning>& warnings) {
  auto& build = config.build;
  if (build.cuda.empty()) {
    build.cuda = row.cuda;
  } else if (major_minor(build.cuda) != row.cuda) {
    warnings.push_back({requirement_location(config, "tensorflow"),
                        "Cog doesn't know if CUDA " + build.cuda + " is compatible with Tensorflow " + version +
                            ". This might cause CUDA problems.",
                        "If you have trouble, try setting CUDA " + row.cuda + " explicitly in cog.yaml."});
  }
  if (build.cudnn.empty()) {
    build.cudnn = row.cudnn;
  } else if (build.cudnn != row.cudnn) {
    throw pin_error(config, "tensorflow",
                    "The specified cuDNN version " + build.cudnn + " is not compatible with tensorflow==" + version,
                    "Compatible cuDNN version is: " + row.cudnn);
  }
}

void complete_from_torch(Config& config, const CompatMatrix& matrix, const std::string& version,
                         std::vector<Warning>& warnings) {
  auto& build = config.build;
  auto cudas = cudas_for_torch(matrix, version);
  if (!build.cuda.empty()) {
    if (std::find(cudas.begin(), cudas.end(), major_minor(build.cuda)) == cudas.end()) {
      warnings.push_back({requirement_location(config, "torch"),
                          "Cog doesn't know if CUDA " + build.cuda + " is compatible with PyTorch " + version +
                              ". This might cause CUDA problems.",
                          cudas.empty() ? std::string() : "Try " + cudas.front() + " instead?"});
    }
    return;
  }
  if (!torch_version_known(matrix, version)) {
    throw pin_error(config, "torch",
                    "cog doesn't know what CUDA version is compatible with torch==" + version +
                        ". You might need to upgrade Cog: https://github.com/replicate/cog#upgrade",
                    "If this version is correct, you can set the 'cuda' option in cog.yaml to set what "
                    "version to use. You might be able to find this out from https://pytorch.org/");
  }
  if (cudas.empty()) {
    throw pin_error(config, "torch", "Cog couldn't automatically determine a CUDA version for torch==" + version,
                    "You need to set the 'cuda' option in cog.yaml to set what version to use. You might be "
                    "able to find this out from https://pytorch.org/");
  }
  build.cuda = cudas.front();
}

}  // namespace

std::vector<Warning> complete_cuda(Config& config, const CompatMatrix& matrix) {
  std::vector<Warning> warnings;
  auto& build = config.build;
  if (!build.gpu) return warnings;

  if (!build.cuda.empty() && !build.cudnn.empty()) check_explicit_pair(config, matrix);

  auto tensorflow = pinned_package_version(config, "tensorflow");
  auto torch = pinned_package_version(config, "torch");
  const TensorflowRow* tensorflow_row = tensorflow ? find_tensorflow(matrix, *tensorflow) : nullptr;

  if (tensorflow_row) {
    complete_from_tensorflow(config, *tensorflow_row, *tensorflow, warnings);
  } else if (tensorflow && build.cuda.empty()) {
    // Cog would carry on with an empty CUDA and fail later; say so where the cause is.
    throw pin_error(config, "tensorflow",
                    "cog doesn't know what CUDA version is compatible with tensorflow==" + *tensorflow,
                    "set the 'cuda' and 'cudnn' options in cog.yaml, or pin a TensorFlow release Cog knows");
  } else if (torch) {
    complete_from_torch(config, matrix, *torch, warnings);
  } else if (has_package(config, "torch") && build.cuda.empty()) {
    throw pin_error(config, "torch", "torch version must be specified when using CUDA",
                    "pin it in your requirements (e.g. torch==2.3.1), or set build.cuda");
  }

  if (build.cuda.empty()) build.cuda = std::string(kDefaultCuda);
  if (build.cudnn.empty()) build.cudnn = latest_cudnn(config, matrix, build.cuda);
  return warnings;
}

}  // namespace cog::builder::config
