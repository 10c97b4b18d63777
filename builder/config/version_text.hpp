#pragma once
// Dotted version numbers as cog.yaml writes them ("3.12", "11.8.0", "8").
#include <optional>
#include <string_view>
#include <vector>

namespace cog::builder::config {

// The numeric parts of "3.12.1" ({3, 12, 1}); nullopt when any part is empty or not all digits.
std::optional<std::vector<int>> parse_dotted_version(std::string_view text);

// a < b on the common parts, a missing part counting as 0 ("3.10" < "3.11", "3.10" == "3.10.0").
bool version_less(const std::vector<int>& a, const std::vector<int>& b);

}  // namespace cog::builder::config
