// cog init: starter files for a new project in the current directory.
#include <filesystem>
#include <iostream>

#include "builder/config/init_templates.hpp"
#include "cli/command.hpp"

namespace cog::cli {

void add_init_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto* init = app.add_subcommand("init", "Configure your project for use with Cog");
  init->callback([] {
    std::cerr << "Setting up the current directory for use with Cog...\n";
    builder::config::write_init_templates(std::filesystem::current_path(),
                                          [](const std::string& line) { std::cerr << line << "\n"; });
    std::cerr << "\nDone! For next steps, check out the docs at https://cog.run/getting-started\n";
  });
}

}  // namespace cog::cli
