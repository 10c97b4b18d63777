#pragma once
// Byte counts for people, in decimal units as docker prints them.
#include <cstdint>
#include <string>

namespace cog::support {

enum class SizeStyle {
  Progress,  // "12 B", "340.0 kB", "1.2 MB": one decimal, a space (transfer progress lines)
  Listing,   // "12B", "340kB", "97.6MB": three significant digits, no space (`docker images`)
};

std::string human_size(std::int64_t bytes, SizeStyle style = SizeStyle::Progress);

}  // namespace cog::support
