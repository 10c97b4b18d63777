#pragma once
// The image name Cog uses when neither a flag nor cog.yaml's `image` names one.
#include <filesystem>
#include <string>

namespace cog::builder::plan {

// "cog-" + the project directory's name, lower case, spaces as dashes, other characters outside
// [a-z0-9-] dropped, the whole at most 30 characters.
std::string default_image_name(const std::filesystem::path& project_dir);

}  // namespace cog::builder::plan
