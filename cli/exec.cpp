// cog exec: a command inside the model's environment, with the project mounted at /src.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "builder/pipeline/pipeline.hpp"
#include "builder/config/load.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/container/image_container.hpp"
#include "cli/command.hpp"
#include "cli/environment.hpp"

namespace cog::cli {
namespace {

struct ExecFlags {
  std::vector<std::string> command;
  std::vector<std::string> env;
  std::vector<std::string> publish;
  std::string config_file = "cog.yaml";
  ContainerFlags container;
};

int run_exec(const ExecFlags& flags) {
  // Before any thread exists: mounts made from here on vanish with this process.
  // docker/podman mount nothing here, so a user in the docker group needs no root.
  if (!builder::container::is_engine_runtime(flags.container.runtime)) {
    builder::container::enter_private_mount_namespace();
  }
  auto config_path = builder::config::find_config(std::filesystem::current_path(), flags.config_file);
  auto loaded = builder::config::load_config(config_path);
  for (const auto& warning : loaded.warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";

  const std::string image = build_dev_image(loaded, flags.config_file, flags.container, /*model_optional=*/true);
  std::cerr << "Running '" << join_command(flags.command)
            << "' in a container with the current directory mounted as a volume...\n";
  builder::container::ImageRunOptions options;
  options.image = image;
  options.command = flags.command;
  options.env = parse_env_flags(flags.env);
  options.env.push_back("LOG_FORMAT=console");
  options.project_dir = loaded.config.project_dir;
  options.working_dir = "/src";
  options.runtime = flags.container.runtime;
  options.terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  options.interactive = true;
  options.gpus = gpu_access_for(flags.container.gpus, image, flags.container.runtime);
  builder::container::ImageContainer container(options);
  // Ports need no publishing: the container shares the host's network (see runtime_spec.hpp).
  container.start();
  return container.wait().exit_code;
}

}  // namespace

std::vector<std::string> without_exec_separator(CLI::App& app, std::vector<std::string> args) {
  std::size_t at = 1;
  while (at < args.size() && args[at].starts_with("-")) ++at;  // --debug, --no-color
  if (at >= args.size() || args[at] != "exec") return args;
  CLI::App* exec = app.get_subcommand("exec");
  for (++at; at < args.size(); ++at) {
    const std::string& arg = args[at];
    if (arg == "--") {
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(at));
      break;
    }
    if (!arg.starts_with("-")) break;  // the command: what follows is its own
    if (arg.find('=') != std::string::npos) continue;
    const CLI::Option* option = exec->get_option_no_throw(arg);
    if (option && option->get_items_expected_min() > 0) ++at;  // its value
  }
  return args;
}

void add_exec_command(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<ExecFlags>();
  auto* exec = app.add_subcommand("exec", "Run a command inside the model's environment");
  exec->prefix_command();  // everything after the command belongs to it
  // Falling through to `cog`'s own flags would hand the command to `cog` too: the global flags
  // are exec's own here instead.
  exec->fallthrough(false);
  exec->add_flag("--debug", global.debug)->group("");
  exec->add_flag("--no-color", global.no_color)->group("");
  exec->add_option("-e,--env", flags->env, "Environment variables, in the form name=value")->allow_extra_args(false);
  exec->add_option("-p,--publish", flags->publish,
                   "Publish a container's port to the host, e.g. -p 8000 (the container shares the "
                   "host's network, so every port is reachable)");
  exec->add_option("-f,--file", flags->config_file, "The name of the config file")->default_val("cog.yaml");
  add_container_flags(exec, flags->container);
  exec->callback([flags, exec] {
    flags->command = exec->remaining();
    if (flags->command.empty()) {
      throw Error(ErrorKind::Usage, "cog exec", "no command given", "e.g. cog exec python --version");
    }
    const int code = run_exec(*flags);
    std::cout.flush();
    std::exit(code);
  });
}

}  // namespace cog::cli
