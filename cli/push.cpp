// cog push [IMAGE]: resolve the target (argument > cog.yaml image, or model + COG_MODEL_*), then
// send the image from the local image store (or --from) to the registry.
#include <filesystem>
#include <iostream>
#include <optional>

#include "builder/build/pipeline.hpp"
#include "builder/config/load.hpp"
#include "builder/oci/store.hpp"
#include "builder/registry/login.hpp"
#include "builder/registry/push.hpp"
#include "builder/registry/push_target.hpp"
#include "builder/registry/terminal.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

struct PushFlags {
  std::string image;
  std::string from;
  std::string config_file = "cog.yaml";
  std::string progress = std::getenv("BUILDKIT_PROGRESS") ? std::getenv("BUILDKIT_PROGRESS") : "auto";
  std::string ca_bundle;
  bool insecure = false;
};

void run_push(const PushFlags& flags, const GlobalOptions& global) {
  namespace registry = builder::registry;
  registry::PushTargetInputs inputs{flags.image, {}, {}, {}};
  std::optional<builder::config::LoadedConfig> project;
  try {
    project = builder::config::load_config(
        builder::config::find_config(std::filesystem::current_path(), flags.config_file));
    inputs.config_image = project->config.image;
    inputs.config_model = project->config.model;
  } catch (const cog::Error& error) {
    if (error.kind() != cog::ErrorKind::NotFound || flags.image.empty()) throw;  // no cog.yaml: fine with an argument
  }
  auto target = registry::resolve_push_target(inputs);

  auto options = registry::transfer_options_from_environment();
  options.client.insecure = flags.insecure;
  if (!flags.ca_bundle.empty()) options.client.tls.ca_bundle = flags.ca_bundle;
  bool live = flags.progress == "tty" || (flags.progress == "auto" && registry::stderr_is_terminal() &&
                                          std::getenv("TERM") && std::string(std::getenv("TERM")) != "dumb");
  options.progress = flags.progress == "quiet" ? nullptr : &std::cerr;
  options.live_progress = live;
  registry::TransferStats stats;
  options.stats = &stats;

  // As Cog: build the project first (when it names a model to build) and push what was built.
  std::string built_image;
  if (flags.from.empty() && project && (!project->config.run.empty() || !project->config.train.empty())) {
    builder::build::BuildOptions build_options;
    build_options.tag = target.str();
    build_options.config_file_name = flags.config_file;
    auto built = builder::build::build_image(*project, build_options, [&](std::string_view line) {
      if (flags.progress != "quiet") std::cerr << line << "\n";
    });
    built_image = built.image_name;
  }
  std::cerr << "Pushing to " << target.str() << "...\n";
  registry::PushResult result;
  if (!flags.from.empty()) {
    result = registry::push_image(flags.from, target, options);
  } else {
    builder::oci::ImageStore store(builder::oci::default_store_path());
    std::string written = flags.image.empty() ? (inputs.config_model.empty() ? inputs.config_image : target.str())
                                              : flags.image;
    if (!built_image.empty()) written = built_image;
    auto manifest = store.find(written);
    if (!manifest) manifest = store.find(target.str());
    if (!manifest)
      throw cog::Error(cog::ErrorKind::NotFound, target.str(), "no such image in the local image store",
                       "build it first with `cog build -t " + written + "`, or name one with --from");
    result = registry::push_image(store.layout(), *manifest, target, options);
  }
  std::cerr << "Pushed " << result.reference << "@" << result.digest.str() << "\n";
  if (global.debug) std::cerr << "push stats: " << stats.summary() << "\n";
  if (target.registry == registry::kReplicateRegistryHost)
    std::cerr << "\nRun your model on Replicate:\n    https://replicate.com/" << target.repository << "\n";
}

}  // namespace

void add_push_command(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<PushFlags>();
  auto* push = app.add_subcommand("push", "Build and push model in current directory to a Docker registry");
  push->add_option("IMAGE", flags->image, "Image name, e.g. r8.im/your-username/your-model");
  push->add_option("-f,--file", flags->config_file, "The name of the config file");
  push->add_option("--progress", flags->progress, "Progress output: auto, tty, plain or quiet")
      ->check(CLI::IsMember({"auto", "tty", "plain", "quiet"}));
  push->add_option("--from", flags->from,
                   "Push this image instead: a local image name, oci:DIR[:TAG] or docker-archive:FILE");
  push->add_flag("--insecure", flags->insecure, "Allow plain HTTP and unverified TLS to the registry");
  push->add_option("--ca-bundle", flags->ca_bundle,
                   "PEM file of CAs to trust for the registry (default: $COG_REGISTRY_CA_BUNDLE, else the system's)");
  push->callback([flags, &global] { run_push(*flags, global); });
}

}  // namespace cog::cli
