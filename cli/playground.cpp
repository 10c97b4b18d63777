// cog playground: a browser UI for a running Cog API (runtime/playground/playground.hpp).
#include <iostream>
#include <memory>

#include "cli/command.hpp"
#include "runtime/playground/playground.hpp"

namespace cog::cli {

void add_playground_command(CLI::App& app, GlobalOptions&) {
  auto options = std::make_shared<runtime::playground::PlaygroundOptions>();
  auto no_open = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("playground", "Open a browser UI for a running Cog model");
  cmd->add_option("--target", options->target, "URL of the Cog API to forward to")
      ->default_val("http://localhost:8393");
  cmd->add_option("-p,--port", options->port, "Port for the playground (0 = a free port)")->default_val(0);
  cmd->add_option("--host", options->host, "Host interface for the playground")->default_val("127.0.0.1");
  cmd->add_option("--webhook-host", options->webhook_host, "Host name the Cog server reaches the playground by")
      ->default_val("host.docker.internal");
  cmd->add_flag("--no-open", *no_open, "Do not open a browser");
  cmd->callback([options, no_open] {
    runtime::playground::PlaygroundServer server(*options);
    server.bind();
    std::cout << "Playground for " << options->target << " at " << server.url() << std::endl;
    if (!*no_open) runtime::playground::open_in_browser(server.url());
    server.run();
  });
}

}  // namespace cog::cli
