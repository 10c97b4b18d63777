// cog weights import|pull|status (hidden, as in Cog): managed weights, see docs/weights.md.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "builder/config/load.hpp"
#include "builder/weights/import.hpp"
#include "builder/weights/pull.hpp"
#include "cli/command.hpp"
#include "cli/terminal.hpp"
#include "support/error.hpp"

namespace cog::cli {
namespace {

struct WeightsFlags {
  std::string config_file = "cog.yaml";
  std::vector<std::string> names;
  bool dry_run = false;
  bool verbose = false;
  bool json = false;
};

builder::config::LoadedConfig load_project(const WeightsFlags& flags) {
  auto loaded =
      builder::config::load_config(builder::config::find_config(std::filesystem::current_path(), flags.config_file));
  for (const auto& warning : loaded.warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";
  if (loaded.config.weights.empty())
    throw Error(ErrorKind::Usage, loaded.config.config_path.string(), "cog.yaml declares no weights",
                "add model: and a weights: list (name, target, source); see docs/weights.md");
  return loaded;
}

builder::weights::WeightsOptions options_from(const WeightsFlags& flags) {
  builder::weights::WeightsOptions options;
  options.names = flags.names;
  options.dry_run = flags.dry_run;
  options.verbose = flags.verbose;
  options.transfer = builder::registry::transfer_options_from_environment();
  options.transfer.progress = flags.verbose ? &std::cerr : nullptr;
  options.transfer.live_progress = flags.verbose && stderr_is_terminal();
  options.out = &std::cerr;
  return options;
}

builder::weights::WeightsLock require_lock(const builder::config::Config& config) {
  auto lock = builder::weights::read_lock(builder::weights::lock_path(config));
  if (!lock)
    throw Error(ErrorKind::NotFound, builder::weights::lock_path(config).string(), "no weights.lock yet",
                "run cog weights import first");
  return *lock;
}

void run_status(const WeightsFlags& flags) {
  auto loaded = load_project(flags);
  const auto& config = loaded.config;
  auto lock = builder::weights::read_lock(builder::weights::lock_path(config));
  builder::weights::ContentStore store(builder::weights::default_cache_dir());
  auto statuses = builder::weights::weights_status(config, lock ? &*lock : nullptr, store);
  if (flags.json) {
    nlohmann::ordered_json weights = nlohmann::ordered_json::array();
    for (const auto& status : statuses) {
      nlohmann::ordered_json entry = {{"name", status.name},
                                      {"target", status.target},
                                      {"status", status.state},
                                      {"filesCached", status.files_cached},
                                      {"filesTotal", status.files_total}};
      if (status.locked) {
        entry["digest"] = status.locked->digest;
        entry["setDigest"] = status.locked->set_digest;
        entry["size"] = status.locked->size;
      }
      if (!status.problem.empty()) entry["problem"] = status.problem;
      weights.push_back(entry);
    }
    std::cout << nlohmann::ordered_json{{"model", config.model},
                                        {"cacheDir", store.root().string()},
                                        {"weights", weights}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "Model: " << config.model << "\n";
  for (const auto& status : statuses) {
    std::cout << "  " << status.name << "  " << status.target << "  " << builder::weights::describe(status) << "\n";
    if (flags.verbose && status.locked)
      std::cout << "    digest " << status.locked->digest << "\n    setDigest " << status.locked->set_digest << "\n";
  }
}

}  // namespace

void add_weights_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto* weights = app.add_subcommand("weights", "Manage model weights (experimental)");
  weights->group("");  // hidden from `cog --help`, as in Cog
  weights->require_subcommand(1);

  auto import_flags = std::make_shared<WeightsFlags>();
  auto* import_command =
      weights->add_subcommand("import", "Pack the weights of cog.yaml, push them and write weights.lock");
  import_command->add_option("NAME", import_flags->names, "Weights to import (default: all)");
  import_command->add_flag("--dry-run", import_flags->dry_run, "Show what would be imported, change nothing");
  import_command->add_flag("-v,--verbose", import_flags->verbose, "List every file");
  import_command->add_option("-f,--file", import_flags->config_file, "The name of the config file");
  import_command->callback([import_flags] {
    auto loaded = load_project(*import_flags);
    builder::weights::import_weights(loaded.config, options_from(*import_flags));
  });

  auto pull_flags = std::make_shared<WeightsFlags>();
  auto* pull_command = weights->add_subcommand("pull", "Fetch the locked weights into the local cache");
  pull_command->add_option("NAME", pull_flags->names, "Weights to pull (default: all)");
  pull_command->add_flag("-v,--verbose", pull_flags->verbose, "List every file");
  pull_command->add_option("-f,--file", pull_flags->config_file, "The name of the config file");
  pull_command->callback([pull_flags] {
    auto loaded = load_project(*pull_flags);
    builder::weights::pull_weights(loaded.config, require_lock(loaded.config), options_from(*pull_flags));
  });

  auto status_flags = std::make_shared<WeightsFlags>();
  auto* status_command = weights->add_subcommand("status", "Show which weights are imported and cached");
  status_command->add_flag("--json", status_flags->json, "Print JSON");
  status_command->add_flag("-v,--verbose", status_flags->verbose, "Show digests");
  status_command->add_option("-f,--file", status_flags->config_file, "The name of the config file");
  status_command->callback([status_flags] { run_status(*status_flags); });

  // They took weights' group ("": hidden) when they were added: list them in its own help.
  for (auto* command : {import_command, pull_command, status_command}) command->group("Subcommands");
}

}  // namespace cog::cli
