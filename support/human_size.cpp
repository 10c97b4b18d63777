#include "support/human_size.hpp"

#include <cstdio>

namespace cog::support {

std::string human_size(std::int64_t bytes, SizeStyle style) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  const char* format =
      style == SizeStyle::Progress ? (unit == 0 ? "%.0f %s" : "%.1f %s") : (unit == 0 ? "%.0f%s" : "%.3g%s");
  char text[32];
  std::snprintf(text, sizeof text, format, value, kUnits[unit]);
  return text;
}

}  // namespace cog::support
