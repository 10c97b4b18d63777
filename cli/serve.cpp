// cog serve: Cog's HTTP API on a local port, from the development image in a container (the
// project mounted at /src), or with --local from the host.
#include <filesystem>
#include <iostream>
#include <memory>

#include "support/error.hpp"
#include "builder/config/load.hpp"
#include "builder/weights/runtime.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "cli/command.hpp"
#include "cli/environment.hpp"
#include "runtime/local/run_local.hpp"
#include "runtime/playground/playground.hpp"

namespace cog::cli {

void add_serve_command(CLI::App& app, GlobalOptions& global) {
  struct Flags {
    int port = 8393;
    std::string host = "127.0.0.1";
    std::string upload_url;
    bool local = false;
    std::string python;
    std::string config_file = "cog.yaml";
    bool playground = false;
    int playground_port = 9000;
    ContainerFlags container;
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("serve", "Run a prediction HTTP server");
  cmd->add_option("-p,--port", flags->port, "Port on which to listen")->default_val(8393);
  cmd->add_option("--host", flags->host, "Host interface to listen on")->default_val("127.0.0.1");
  cmd->add_option("--upload-url", flags->upload_url, "Upload URL for file outputs (e.g. https://example.com/upload/)");
  cmd->add_flag("--local", flags->local, "Run the runtime on the host against the project directory (no image)");
  cmd->add_option("--python", flags->python, "With --local: the Python interpreter whose packages to use");
  cmd->add_option("-f,--file", flags->config_file, "The name of the config file")->default_val("cog.yaml");
  add_container_flags(cmd, flags->container);
  cmd->add_flag("--playground", flags->playground, "Also serve the browser playground (see cog playground)");
  cmd->add_option("--playground-port", flags->playground_port, "Port for --playground")->default_val(9000);
  cmd->callback([flags, &global] {
    // Beside the server, on its own thread, for as long as this command runs.
    std::unique_ptr<runtime::playground::BackgroundPlayground> playground;
    if (flags->playground) {
      runtime::playground::PlaygroundOptions options;
      const std::string reach = flags->host == "0.0.0.0" ? "127.0.0.1" : flags->host;
      options.target = "http://" + reach + ":" + std::to_string(flags->port);
      options.host = flags->host;
      options.port = flags->playground_port;
      // The host's server resolves no host.docker.internal; a container on the host network does.
      if (flags->local) options.webhook_host = reach;
      playground = std::make_unique<runtime::playground::BackgroundPlayground>(options);
      std::cerr << "Playground at " << playground->url() << "\n";
    }
    if (!flags->local) {
      // Before any thread exists: the container's mounts then vanish with this process.
      // docker/podman mount nothing here, so a user in the docker group needs no root.
      if (!builder::container::is_engine_runtime(flags->container.runtime)) {
        builder::container::enter_private_mount_namespace();
      }
      auto loaded = builder::config::load_config(
          builder::config::find_config(std::filesystem::current_path(), flags->config_file));
      for (const auto& warning : loaded.warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";
      runtime::local::ServeImageOptions options;
      options.image = build_dev_image(loaded, flags->config_file, flags->container);
      options.project_dir = loaded.config.project_dir;
      auto weight_mounts = builder::weights::prepare_mounts(
          loaded.config, builder::registry::transfer_options_from_environment(), &std::cerr);
      if (weight_mounts)
        for (const auto& mount : weight_mounts->mounts()) options.binds.push_back({mount.source, mount.target, true});
      options.port = flags->port;
      options.bind_host = flags->host;
      options.upload_url = flags->upload_url;
      options.runtime = flags->container.runtime;
      options.debug = global.debug;
      options.gpus = gpu_access_for(flags->container.gpus, options.image, flags->container.runtime);
      const int code = runtime::local::serve_image(options, std::cerr);
      if (code != 0 && code != 130) {
        throw Error(ErrorKind::Runtime, "cog serve", "the server exited with status " + std::to_string(code));
      }
      return;
    }
    runtime::local::ServeLocalOptions options;
    options.host.config_file = flags->config_file;
    options.host.python = flags->python;
    options.host.debug = global.debug;
    options.port = flags->port;
    options.bind_host = flags->host;
    options.upload_url = flags->upload_url;
    const int code = runtime::local::serve_local(options, std::filesystem::read_symlink("/proc/self/exe"), std::cerr);
    if (code != 0) {
      throw Error(ErrorKind::Runtime, "cog serve", "cog-server exited with status " + std::to_string(code));
    }
  });
}

}  // namespace cog::cli
