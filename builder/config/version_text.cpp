#include "builder/config/version_text.hpp"

#include <algorithm>

namespace cog::builder::config {

std::optional<std::vector<int>> parse_dotted_version(std::string_view text) {
  std::vector<int> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find('.', start);
    std::string_view part = text.substr(start, end == std::string_view::npos ? end : end - start);
    // More than 9 digits is not a version anybody writes; refusing it also avoids int overflow.
    if (part.empty() || part.size() > 9) return std::nullopt;
    int value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    parts.push_back(value);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

bool version_less(const std::vector<int>& a, const std::vector<int>& b) {
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    int left = i < a.size() ? a[i] : 0;
    int right = i < b.size() ? b[i] : 0;
    if (left != right) return left < right;
  }
  return false;
}

}  // namespace cog::builder::config
