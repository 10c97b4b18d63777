#include "cli/environment.hpp"

#include <iostream>

#include "builder/build/pipeline.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/support/error.hpp"

namespace cog::cli {

std::vector<std::string> parse_env_flags(const std::vector<std::string>& values) {
  for (const auto& value : values) {
    const auto equals = value.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw Error(ErrorKind::Usage, "-e " + value, "expected the form name=value", "e.g. -e DEBUG=1");
    }
  }
  return values;
}

std::string build_dev_image(const builder::config::LoadedConfig& loaded, const std::string& config_file,
                            bool quiet) {
  builder::build::BuildOptions options;
  options.dev = true;
  options.config_file_name = config_file;
  options.tag = (loaded.config.image.empty() ? builder::plan::default_image_name(loaded.config.project_dir)
                                             : loaded.config.image) +
                "-dev";
  std::cerr << "Building image from environment in " << config_file << "...\n";
  auto result = builder::build::build_image(loaded, options, [quiet](std::string_view line) {
    if (!quiet) std::cerr << line << "\n";
  });
  return result.image_name;
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

}  // namespace cog::cli
