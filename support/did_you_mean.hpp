#pragma once
// "did you mean …?" suggestions for misspelt names (cog.yaml fields, flags).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cog::support {

// Edit distance (insert, delete, substitute, swap two neighbours; each costs 1): Levenshtein
// plus transpositions, the most common typo ("bulid").
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `typed`, if it is close enough to be a plausible typo: at most a third
// of the longer name's length in edits (and at least one edit allowed). Ties go to the earlier one.
std::optional<std::string> closest_match(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace cog::support
