#pragma once
// What every command file shares: the global flags, and the one hook each command file exports.
#include <CLI/CLI.hpp>
#include <string>

namespace cog::cli {

struct GlobalOptions {
  bool debug = false;
  bool no_color = false;
};

// Each cli/<command>.cpp defines one of these; main.cpp calls them all.
void add_init_command(CLI::App& app, GlobalOptions& global);
void add_run_command(CLI::App& app, GlobalOptions& global);    // run + deprecated predict
void add_serve_command(CLI::App& app, GlobalOptions& global);
void add_login_command(CLI::App& app, GlobalOptions& global);
void add_push_command(CLI::App& app, GlobalOptions& global);
void add_pull_command(CLI::App& app, GlobalOptions& global);
void add_images_command(CLI::App& app, GlobalOptions& global);
void add_debug_command(CLI::App& app, GlobalOptions& global);
void add_build_command(CLI::App& app, GlobalOptions& global);
void add_exec_command(CLI::App& app, GlobalOptions& global);

}  // namespace cog::cli
