#pragma once
// A slash-separated path as its names, for walking it one step at a time inside a root.
#include <string_view>
#include <string>
#include <vector>

namespace cog::support {

// "/a//b/./c/" -> {"a", "b", "c"}: empty names and "." dropped, ".." kept for the caller to judge.
std::vector<std::string> path_components(std::string_view path);

}  // namespace cog::support
