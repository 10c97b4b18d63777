// Loading the compatibility matrix and looking things up in it.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "builder/config/compat.hpp"
#include "builder/config/compat_data.inc"

namespace cog::builder::config {
namespace {

using nlohmann::json;

json parse_document(std::string_view text, const char* name) {
  try {
    auto document = json::parse(text);
    if (!document.is_array()) {
      throw Error(ErrorKind::Parse, std::string("schemas/compat/") + name, "expected a JSON array");
    }
    return document;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Parse, std::string("schemas/compat/") + name, e.what());
  }
}

std::string string_field(const json& row, const char* key) {
  auto found = row.find(key);
  if (found == row.end() || found->is_null()) return {};
  return found->get<std::string>();
}

std::vector<std::string> string_list(const json& row, const char* key) {
  auto found = row.find(key);
  if (found == row.end() || found->is_null()) return {};
  return found->get<std::vector<std::string>>();
}

std::vector<std::string> split_components(std::string_view version) {
  std::vector<std::string> parts;
  version = version.substr(0, version.find('+'));
  size_t start = 0;
  while (start <= version.size()) {
    size_t dot = version.find('.', start);
    if (dot == std::string_view::npos) dot = version.size();
    parts.emplace_back(version.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

// Leading digits of a component as a number; "0rc1" counts as 0 (pre-releases are rare here).
long component_number(const std::string& part) {
  long value = 0;
  for (char c : part) {
    if (c < '0' || c > '9') break;
    value = value * 10 + (c - '0');
  }
  return value;
}

void push_unique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

void sort_newest_first(std::vector<std::string>& versions) {
  std::sort(versions.begin(), versions.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) > 0; });
}

}  // namespace

std::string strip_local_version(std::string_view version) { return std::string(version.substr(0, version.find('+'))); }

std::string major_minor(std::string_view version) {
  auto parts = split_components(version);
  if (parts.size() < 2) return strip_local_version(version);
  return parts[0] + "." + parts[1];
}

int compare_versions(std::string_view a, std::string_view b) {
  auto left = split_components(a);
  auto right = split_components(b);
  for (size_t i = 0; i < std::max(left.size(), right.size()); ++i) {
    long l = i < left.size() ? component_number(left[i]) : 0;
    long r = i < right.size() ? component_number(right[i]) : 0;
    if (l != r) return l < r ? -1 : 1;
  }
  return 0;
}

bool version_matches(std::string_view requested, std::string_view candidate) {
  if (requested.find('+') != std::string_view::npos) {
    // "2.3.1+cpu" names the CPU build even where the row spells it without the local part.
    if (candidate.find('+') != std::string_view::npos) return requested == candidate;
    return strip_local_version(requested) == candidate;
  }
  auto wanted = split_components(requested);
  auto have = split_components(candidate);
  if (wanted.size() > have.size()) return false;
  return std::equal(wanted.begin(), wanted.end(), have.begin());
}

CompatMatrix CompatMatrix::from_json(std::string_view torch_json, std::string_view cuda_json,
                                     std::string_view tensorflow_json) {
  CompatMatrix matrix;
  try {
    for (const auto& row : parse_document(cuda_json, "cuda.json")) {
      matrix.cuda.push_back({string_field(row, "Tag"), string_field(row, "CUDA"), string_field(row, "CuDNN"),
                             row.value("IsDevel", true), string_field(row, "Ubuntu")});
    }
    for (const auto& row : parse_document(torch_json, "torch.json")) {
      TorchRow torch{string_field(row, "Torch"),         string_field(row, "Torchvision"),
                     string_field(row, "Torchaudio"),    string_field(row, "FindLinks"),
                     string_field(row, "ExtraIndexURL"), std::nullopt,
                     string_list(row, "Pythons")};
      std::string cuda = string_field(row, "CUDA");
      if (!cuda.empty()) {
        // Cog keeps only torch builds it can put on a CUDA image it knows.
        if (cudnns_for_cuda(matrix, cuda).empty()) continue;
        torch.cuda = cuda;
      }
      matrix.torch.push_back(std::move(torch));
    }
    for (const auto& row : parse_document(tensorflow_json, "tensorflow.json")) {
      matrix.tensorflow.push_back({string_field(row, "TF"), string_field(row, "TFCPUPackage"),
                                   string_field(row, "TFGPUPackage"), major_minor(string_field(row, "CUDA")),
                                   split_components(string_field(row, "CuDNN")).front(), string_list(row, "Pythons")});
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, "schemas/compat", std::string("malformed row: ") + e.what());
  }
  return matrix;
}

const CompatMatrix& CompatMatrix::builtin() {
  // Immutable after the first call; C++ guarantees thread-safe initialisation.
  static const CompatMatrix matrix = from_json(kTorchJson, kCudaJson, kTensorflowJson);
  return matrix;
}

std::vector<std::string> cudnns_for_cuda(const CompatMatrix& matrix, std::string_view cuda) {
  std::vector<std::string> cudnns;
  for (const auto& row : matrix.cuda) {
    if (row.is_devel && version_matches(cuda, row.cuda)) push_unique(cudnns, row.cudnn);
  }
  sort_newest_first(cudnns);
  return cudnns;
}

std::vector<std::string> cudas_for_torch(const CompatMatrix& matrix, std::string_view version) {
  std::vector<std::string> cudas;
  for (const auto& row : matrix.torch) {
    if (row.cuda && version_matches(version, row.torch)) push_unique(cudas, *row.cuda);
  }
  sort_newest_first(cudas);
  return cudas;
}

bool torch_version_known(const CompatMatrix& matrix, std::string_view version) {
  return std::any_of(matrix.torch.begin(), matrix.torch.end(),
                     [&](const TorchRow& row) { return version_matches(version, row.torch); });
}

const TensorflowRow* find_tensorflow(const CompatMatrix& matrix, std::string_view version) {
  for (const auto& row : matrix.tensorflow) {
    if (row.tensorflow == version) return &row;
  }
  return nullptr;
}

}  // namespace cog::builder::config
