// cog doctor [--fix] (experimental): check the project for problems; --fix applies the safe rewrites.
#include <cstdlib>
#include <iostream>

#include "builder/config/load.hpp"
#include "builder/doctor/doctor.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

struct DoctorOptions {
  bool fix = false;
  std::string config_file = "cog.yaml";
};

void run_doctor(const DoctorOptions& options) {
  auto config_path = builder::config::find_config(std::filesystem::current_path(), options.config_file);
  auto report = builder::doctor::run_doctor(config_path, options.fix, builder::doctor::real_host());
  std::cerr << builder::doctor::render_report(report, options.fix) << std::flush;
  int code = builder::doctor::exit_code(report);
  if (code != 0) {
    std::cout << std::flush;
    std::exit(code);
  }
}

}  // namespace

void add_doctor_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto options = std::make_shared<DoctorOptions>();
  auto* doctor = app.add_subcommand("doctor", "Check your project for common issues and fix them (experimental)");
  doctor->add_flag("--fix", options->fix, "Automatically apply fixes where safe");
  doctor->add_option("-f,--file", options->config_file, "The name of the config file.");
  doctor->callback([options] { run_doctor(*options); });
}

}  // namespace cog::cli
