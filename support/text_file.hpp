#pragma once
// A whole file as text.
#include <filesystem>
#include <string>

namespace cog::support {

// The file's bytes; "" when it is missing or unreadable (callers that need it to exist check first
// or reject the empty text themselves).
std::string read_text_file(const std::filesystem::path& file);

}  // namespace cog::support
