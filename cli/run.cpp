// cog run (and its deprecated alias cog predict): run one prediction, in a container started from
// IMAGE (or from the development image built first), or with --local on the host.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "support/error.hpp"
#include "builder/config/load.hpp"
#include "builder/weights/image_weights.hpp"
#include "builder/weights/runtime.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "cli/command.hpp"
#include "cli/environment.hpp"
#include "runtime/local/run_local.hpp"

namespace cog::cli {
namespace {

struct RunFlags {
  std::vector<std::string> inputs;
  std::string json;
  std::string output;
  std::vector<std::string> env;
  unsigned setup_timeout = 300;
  bool use_replicate_token = false;
  bool local = false;
  std::string python;
  std::string config_file = "cog.yaml";
  std::string image;
  ContainerFlags container;
};

std::vector<std::pair<std::string, std::string>> parse_env(const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& value : values) {
    const auto eq = value.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(ErrorKind::Usage, "-e", "expected NAME=value, got '" + value + "'");
    }
    env.emplace_back(value.substr(0, eq), value.substr(eq + 1));
  }
  return env;
}

void register_run(CLI::App& app, GlobalOptions& global, const std::string& name, bool deprecated, bool train = false) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand(name, train        ? "Run a training (deprecated)"
                                       : deprecated ? "Run a prediction (deprecated: use `cog run`)"
                                                    : "Run a prediction");
  if (deprecated) cmd->group("");  // hidden, as Cog hides its deprecated commands
  cmd->add_option("image", flags->image, "Image to run (needs the container runtime; see --local)");
  cmd->add_option("-i,--input", flags->inputs,
                  "Inputs, in the form name=value. If value is prefixed with @, "
                  "then it is read from a file on disk. E.g. -i path=@image.jpg");
  auto* json = cmd->add_option("--json", flags->json, "Inputs as JSON: inline, @file, @- or - for stdin");
  cmd->add_option("-o,--output", flags->output, "Output path");
  cmd->add_option("-e,--env", flags->env, "Environment variables, in the form name=value");
  cmd->add_option("--setup-timeout", flags->setup_timeout, "The timeout for a container to setup (in seconds).")
      ->default_val(300);
  cmd->add_flag("--use-replicate-token", flags->use_replicate_token,
                "Pass REPLICATE_API_TOKEN to the model in the request context");
  cmd->add_flag("--local", flags->local, "Run the runtime on the host against the project directory (no image)");
  cmd->add_option("--python", flags->python, "With --local: the Python interpreter whose packages to use");
  cmd->add_option("-f,--file", flags->config_file, "The name of the config file")->default_val("cog.yaml");
  add_container_flags(cmd, flags->container);
  cmd->callback([flags, json, &global, name, deprecated, train] {
    if (train) {
      std::cerr << "Command \"train\" is deprecated, the train command will be removed in a future version of Cog\n";
    } else if (deprecated) {
      std::cerr << "cog: warning: \"cog predict\" is deprecated, use \"cog run\"\n";
    }
    if (flags->image.find('=') != std::string::npos) {
      throw Error(ErrorKind::Usage, "cog " + name, "Invalid image name '" + flags->image + "'. Did you forget `-i`?");
    }
    if (flags->local && !flags->image.empty()) {
      throw Error(ErrorKind::Usage, "cog " + name, "--local runs the project directory, not an image",
                  "drop the image argument, or drop --local");
    }
    runtime::local::RunLocalOptions options;
    options.host.config_file = flags->config_file;
    options.host.python = flags->python;
    options.host.env = parse_env(flags->env);
    options.host.debug = global.debug;
    options.inputs = flags->inputs;
    if (json->count() > 0) options.json = flags->json;
    options.output = flags->output;
    options.setup_timeout_s = flags->setup_timeout;
    options.use_replicate_token = flags->use_replicate_token;
    options.train = train;
    int code = 0;
    if (flags->local) {
      code = runtime::local::run_local(options, std::filesystem::read_symlink("/proc/self/exe"), std::cout, std::cerr);
    } else {
      // Before any thread exists: the container's mounts then vanish with this process.
      // docker/podman mount nothing here, so a user in the docker group needs no root.
      if (!builder::container::is_engine_runtime(flags->container.runtime)) {
        builder::container::enter_private_mount_namespace();
      }
      runtime::local::RunImageOptions image_options;
      std::unique_ptr<builder::weights::PreparedMounts> weight_mounts;  // linked until the run ends
      image_options.run = options;
      image_options.runtime = flags->container.runtime;
      image_options.image = flags->image;
      if (flags->image.empty()) {
        // As Cog: no image named → build the development image and mount the project at /src.
        auto loaded = builder::config::load_config(
            builder::config::find_config(std::filesystem::current_path(), flags->config_file));
        for (const auto& warning : loaded.warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";
        image_options.image = build_dev_image(loaded, flags->config_file, flags->container);
        image_options.project_dir = loaded.config.project_dir;
        weight_mounts = builder::weights::prepare_mounts(
            loaded.config, builder::registry::transfer_options_from_environment(), &std::cerr);
      } else {
        ensure_image(flags->image);
        // Its /.cog/weights.json: mounted from the cache, pulled as this directory's lock says.
        weight_mounts =
            builder::weights::prepare_image_mounts(flags->image, std::filesystem::current_path(), flags->config_file,
                                                   builder::registry::transfer_options_from_environment(), &std::cerr);
      }
      if (weight_mounts)
        for (const auto& mount : weight_mounts->mounts())
          image_options.binds.push_back({mount.source, mount.target, true});
      image_options.gpus = gpu_access_for(flags->container.gpus, image_options.image, flags->container.runtime);
      code = runtime::local::run_image(image_options, std::cout, std::cerr);
    }
    if (code != 0) {
      std::cout.flush();
      std::exit(code);
    }
  });
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& global) {
  register_run(app, global, "run", false);
  register_run(app, global, "predict", true);
  register_run(app, global, "train", true, true);
}

}  // namespace cog::cli
