#pragma once
// The image name Cog uses when neither a flag nor cog.yaml's `image` names one.
#include <filesystem>
#include <string>

#include "builder/config/config.hpp"

namespace cog::builder::plan {

// "cog-" + the project directory's name, lower case, spaces as dashes, other characters outside
// [a-z0-9-] dropped, the whole at most 30 characters.
std::string default_image_name(const std::filesystem::path& project_dir);

// What a build is named: `tag` (-t) when given, else cog.yaml's `image`, else default_image_name.
std::string build_image_name(const std::string& tag, const config::Config& config);

}  // namespace cog::builder::plan
