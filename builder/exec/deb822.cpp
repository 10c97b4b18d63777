#include "builder/exec/deb822.hpp"

#include <algorithm>
#include <cctype>

#include "support/text.hpp"

namespace cog::builder::exec {

std::vector<Deb822Paragraph> read_deb822(std::istream& in) {
  std::vector<Deb822Paragraph> paragraphs;
  Deb822Paragraph current;
  const auto flush = [&] {
    if (!current.empty()) paragraphs.push_back(std::move(current));
    current.clear();
  };
  for (std::string line; std::getline(in, line);) {
    if (support::trim(line, " \t\r").empty()) {
      flush();
      continue;
    }
    if (line[0] == '#' || line[0] == ' ' || line[0] == '\t') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string field = line.substr(0, colon);
    std::transform(field.begin(), field.end(), field.begin(), [](unsigned char c) { return std::tolower(c); });
    current[field] = support::trim(std::string_view(line).substr(colon + 1), " \t\r");
  }
  flush();
  return paragraphs;
}

}  // namespace cog::builder::exec
