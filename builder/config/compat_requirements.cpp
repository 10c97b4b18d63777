// The requirements file the image installs (reference §3.4): the user's requirements with torch,
// torchvision and tensorflow pinned to the build that matches the image's CUDA (or the CPU).
#include <algorithm>

#include "builder/config/compat.hpp"

namespace cog::builder::config {
namespace {

// A rewritten package line and the package index it needs.
struct ResolvedPackage {
  std::string line;
  std::string find_links;
  std::string extra_index_url;
};

// The row for `version` (matched on `field`) with the highest CUDA not above `cuda`; on a tie,
// the newest torch. Null when none fits.
const TorchRow* best_gpu_row(const CompatMatrix& matrix, std::string TorchRow::*field, const std::string& version,
                             const std::string& cuda) {
  const TorchRow* best = nullptr;
  for (const auto& row : matrix.torch) {
    if (!row.cuda || !version_matches(version, row.*field)) continue;
    if (compare_versions(*row.cuda, cuda) > 0) continue;
    if (!best) {
      best = &row;
      continue;
    }
    int by_cuda = compare_versions(*row.cuda, *best->cuda);
    if (by_cuda > 0 || (by_cuda == 0 && compare_versions(row.torch, best->torch) > 0)) best = &row;
  }
  return best;
}

const TorchRow* best_cpu_row(const CompatMatrix& matrix, std::string TorchRow::*field, const std::string& version) {
  const TorchRow* best = nullptr;
  for (const auto& row : matrix.torch) {
    if (row.cuda || !version_matches(strip_local_version(version), row.*field)) continue;
    if (!best || compare_versions(row.torch, best->torch) > 0) best = &row;
  }
  return best;
}

// torch / torchvision: the matrix row decides the version spelling and the index.
ResolvedPackage resolve_torch_package(const Config& config, const CompatMatrix& matrix, const std::string& name,
                                      const std::string& version) {
  auto field = name == "torch" ? &TorchRow::torch : &TorchRow::torchvision;
  if (config.build.gpu) {
    // Silently verbatim when nothing fits: complete_cuda has already warned about this pair.
    const TorchRow* row = best_gpu_row(matrix, field, version, major_minor(config.build.cuda));
    if (!row) return {name + "==" + version, {}, {}};
    return {name + "==" + strip_local_version(row->*field), row->find_links, row->extra_index_url};
  }
  const TorchRow* row = best_cpu_row(matrix, field, version);
  if (!row) return {name + "==" + version, {}, {}};
  return {name + "==" + row->*field, row->find_links, row->extra_index_url};
}

std::optional<ResolvedPackage> resolve_special_package(const Config& config, const CompatMatrix& matrix,
                                                       const Requirement& requirement) {
  std::string version = pinned_package_version(config, requirement.name).value_or("");
  // Only a bare `name==version` is rewritten; extras or markers mean the user knows better.
  if (version.empty() || !requirement.extras.empty() || !requirement.marker.empty()) {
    return std::nullopt;
  }
  if (requirement.name == "torch" || requirement.name == "torchvision") {
    return resolve_torch_package(config, matrix, requirement.name, version);
  }
  if (requirement.name == "tensorflow" && config.build.gpu) {
    if (const auto* row = find_tensorflow(matrix, version)) return ResolvedPackage{row->gpu_package, {}, {}};
  }
  return std::nullopt;
}

std::string package_name_of(const std::string& line) {
  size_t end = line.find_first_of("=<>!~;[ @");
  std::string name = line.substr(0, end);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
  return name;
}

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end()) {
    list.push_back(value);
  }
}

}  // namespace

std::optional<std::string> pinned_package_version(const Config& config, std::string_view package) {
  for (const auto& requirement : config.requirements) {
    if (requirement.kind != Requirement::Kind::Package || requirement.name != package) continue;
    std::string_view spec = requirement.specifier;
    // Exactly one `==X` (or `===X`) clause; anything else is a range, not a pin.
    if (spec.find(',') != std::string_view::npos) return std::nullopt;
    size_t skip = spec.starts_with("===") ? 3 : spec.starts_with("==") ? 2 : 0;
    if (skip == 0) return std::nullopt;
    std::string version(spec.substr(skip));
    version.erase(std::remove_if(version.begin(), version.end(), ::isspace), version.end());
    if (version.empty() || version.find('*') != std::string::npos) return std::nullopt;
    return version;
  }
  return std::nullopt;
}

bool has_package(const Config& config, std::string_view package) {
  return std::any_of(config.requirements.begin(), config.requirements.end(), [&](const Requirement& requirement) {
    return requirement.kind == Requirement::Kind::Package && requirement.name == package;
  });
}

GeneratedRequirements generate_requirements(const Config& config, const CompatMatrix& matrix,
                                            const std::vector<std::string>& include_packages) {
  GeneratedRequirements generated;
  std::vector<std::string> find_links;
  std::vector<std::string> extra_index_urls;
  std::vector<std::string> packages;

  for (const auto& requirement : config.requirements) {
    switch (requirement.kind) {
      case Requirement::Kind::FindLinks:
        add_unique(find_links, requirement.value);
        continue;
      case Requirement::Kind::ExtraIndexUrl:
        add_unique(extra_index_urls, requirement.value);
        continue;
      case Requirement::Kind::LocalArtifact:
        generated.local_artifacts.push_back(requirement.value);
        packages.push_back(std::string(kLocalArtifactsDir) + "/" + requirement.value);
        continue;
      case Requirement::Kind::Package:
        break;
      default:
        packages.push_back(requirement.text);
        continue;
    }
    if (requirement.name == "cog" || requirement.name == "coglet") {
      generated.warnings.push_back({requirement.where.str(),
                                    "removed \"" + requirement.text + "\" from the requirements: Cog installs the " +
                                        requirement.name + " package itself",
                                    "delete the line; pin the SDK with build.sdk_version instead"});
      continue;
    }
    if (auto resolved = resolve_special_package(config, matrix, requirement)) {
      add_unique(find_links, resolved->find_links);
      add_unique(extra_index_urls, resolved->extra_index_url);
      packages.push_back(resolved->line);
    } else {
      packages.push_back(requirement.text);
    }
  }

  for (const auto& include : include_packages) {
    auto name = package_name_of(include);
    bool present = std::any_of(packages.begin(), packages.end(),
                               [&](const std::string& line) { return package_name_of(line) == name; });
    if (!present) packages.push_back(include);
  }

  for (const auto& url : find_links) generated.text += "--find-links " + url + "\n";
  for (const auto& url : extra_index_urls) generated.text += "--extra-index-url " + url + "\n";
  for (const auto& line : packages) generated.text += line + "\n";
  return generated;
}

}  // namespace cog::builder::config
