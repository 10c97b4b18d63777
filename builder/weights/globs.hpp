#pragma once
// The include/exclude globs of a weight source. A pattern is matched against the file's path
// relative to the source ('/'-separated): `*` and `?` and `[…]` stay inside one path part, `**`
// spans any number of parts (none included). A pattern without '/' is matched against the file
// name alone, at any depth (`*.safetensors`). A file is kept when it matches some include (or
// there are none) and no exclude.
#include <string>
#include <vector>

namespace cog::builder::weights {

bool glob_matches(const std::string& pattern, const std::string& relative_path);

bool keep_file(const std::string& relative_path, const std::vector<std::string>& include,
               const std::vector<std::string>& exclude);

}  // namespace cog::builder::weights
