// Parse, dispatch, print the error once, exit. Everything else lives in builder/ and runtime/.
#include <iostream>
#include <string>
#include <vector>

#include "support/error.hpp"
#include "cli/command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Containers for machine learning.", "cog"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version",
                       std::string("cog version ") + COG_VERSION + " (compatible with Cog " + COG_COMPAT_VERSION + ")");
  cog::cli::GlobalOptions global;
  app.add_flag("--debug", global.debug, "Show debugging output");
  app.add_flag("--no-color", global.no_color, "Disable colored output");
  // As Cobra's persistent flags: `cog build --debug` means `cog --debug build`. Subcommands copy
  // this when they are added, so it comes first.
  app.fallthrough();

  cog::cli::add_init_command(app, global);
  cog::cli::add_run_command(app, global);
  cog::cli::add_serve_command(app, global);
  cog::cli::add_login_command(app, global);
  cog::cli::add_push_command(app, global);
  cog::cli::add_pull_command(app, global);
  cog::cli::add_images_command(app, global);
  cog::cli::add_debug_command(app, global);
  cog::cli::add_build_command(app, global);
  cog::cli::add_exec_command(app, global);
  cog::cli::add_doctor_command(app, global);
  cog::cli::add_playground_command(app, global);
  cog::cli::add_weights_command(app, global);

  try {
    auto args = cog::cli::without_exec_separator(app, std::vector<std::string>(argv, argv + argc));
    std::vector<char*> pointers;
    for (auto& arg : args) pointers.push_back(arg.data());
    app.parse(static_cast<int>(pointers.size()), pointers.data());
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
    }
  } catch (const CLI::ParseError& e) {
    // Help and version exit 0; any usage error exits 1, as Cog's (cobra's) do, not CLI11's own codes.
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const cog::Errors& errors) {
    for (const auto& error : errors.all()) std::cerr << "cog: error: " << error.describe() << "\n";
    return 1;
  } catch (const cog::Error& error) {
    std::cerr << "cog: error: " << error.describe() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cog: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
