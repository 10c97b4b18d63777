#pragma once
// The two string helpers every parser here wanted its own copy of.
#include <string>
#include <string_view>
#include <vector>

namespace cog::support {

// `text` without the `blanks` at either end (by default all ASCII whitespace, as isspace).
std::string trim(std::string_view text, std::string_view blanks = " \t\n\v\f\r");

// The items with `separator` between each two of them.
std::string join(const std::vector<std::string>& items, std::string_view separator);

}  // namespace cog::support
