#include "support/text.hpp"

namespace cog::support {

std::string trim(std::string_view text, std::string_view blanks) {
  const auto start = text.find_first_not_of(blanks);
  if (start == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(blanks);
  return std::string(text.substr(start, end - start + 1));
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += separator;
    text += items[i];
  }
  return text;
}

}  // namespace cog::support
