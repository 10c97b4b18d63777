#pragma once
// What every command file shares: the global flags, and the one hook each command file exports.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cog::cli {

struct GlobalOptions {
  bool debug = false;
  bool no_color = false;
};

// Each cli/<command>.cpp defines one of these; main.cpp calls them all.
void add_init_command(CLI::App& app, GlobalOptions& global);
void add_run_command(CLI::App& app, GlobalOptions& global);  // run + deprecated predict
void add_serve_command(CLI::App& app, GlobalOptions& global);
void add_login_command(CLI::App& app, GlobalOptions& global);
void add_push_command(CLI::App& app, GlobalOptions& global);
void add_pull_command(CLI::App& app, GlobalOptions& global);
void add_images_command(CLI::App& app, GlobalOptions& global);
void add_debug_command(CLI::App& app, GlobalOptions& global);
void add_build_command(CLI::App& app, GlobalOptions& global);
void add_exec_command(CLI::App& app, GlobalOptions& global);
void add_doctor_command(CLI::App& app, GlobalOptions& global);  // experimental
void add_playground_command(CLI::App& app, GlobalOptions& global);
void add_weights_command(CLI::App& app, GlobalOptions& global);  // hidden, as in Cog
// `cog exec [flags] -- CMD ARGS`: Cog takes that `--` as the end of its own flags, CLI11 would pass
// what follows to the top-level app. Returns argv without it; other arguments are untouched.
std::vector<std::string> without_exec_separator(CLI::App& app, std::vector<std::string> args);

}  // namespace cog::cli
