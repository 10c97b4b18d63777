#include "builder/weights/globs.hpp"

#include <fnmatch.h>

namespace cog::builder::weights {
namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : path) {
    if (c == '/') {
      if (!part.empty()) parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  if (!part.empty()) parts.push_back(part);
  return parts;
}

bool match_parts(const std::vector<std::string>& pattern, std::size_t p, const std::vector<std::string>& path,
                 std::size_t i) {
  if (p == pattern.size()) return i == path.size();
  if (pattern[p] == "**") {
    for (std::size_t k = i; k <= path.size(); ++k)
      if (match_parts(pattern, p + 1, path, k)) return true;
    return false;
  }
  return i < path.size() && fnmatch(pattern[p].c_str(), path[i].c_str(), FNM_PERIOD) == 0 &&
         match_parts(pattern, p + 1, path, i + 1);
}

}  // namespace

bool glob_matches(const std::string& pattern, const std::string& relative_path) {
  const auto path = split(relative_path);
  if (pattern.find('/') == std::string::npos) {
    if (path.empty()) return false;
    if (pattern == "**") return true;
    return fnmatch(pattern.c_str(), path.back().c_str(), FNM_PERIOD) == 0;
  }
  return match_parts(split(pattern), 0, path, 0);
}

bool keep_file(const std::string& relative_path, const std::vector<std::string>& include,
               const std::vector<std::string>& exclude) {
  bool included = include.empty();
  for (const auto& pattern : include) included = included || glob_matches(pattern, relative_path);
  if (!included) return false;
  for (const auto& pattern : exclude)
    if (glob_matches(pattern, relative_path)) return false;
  return true;
}

}  // namespace cog::builder::weights
