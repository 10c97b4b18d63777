// cog pull IMAGE: fetch an image into the local image store, or into --output oci:DIR[:TAG].
#include <iostream>

#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "builder/registry/pull.hpp"
#include "cli/terminal.hpp"
#include "support/error.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

struct PullFlags {
  std::string image;
  std::string output;
  std::string platform = "linux/amd64";
  std::string ca_bundle;
  bool insecure = false;
};

void run_pull(const PullFlags& flags, const GlobalOptions& global) {
  namespace registry = builder::registry;
  namespace oci = builder::oci;
  auto ref = registry::parse_reference(flags.image);
  auto options = registry::transfer_options_from_environment();
  options.platform = registry::parse_platform(flags.platform);
  options.client.insecure = flags.insecure;
  if (!flags.ca_bundle.empty()) options.client.tls.ca_bundle = flags.ca_bundle;
  options.progress = &std::cerr;
  options.live_progress = stderr_is_terminal();
  registry::TransferStats stats;
  options.stats = &stats;

  if (flags.output.empty()) {
    oci::ImageStore store(oci::default_store_path());
    registry::pull_into_store(flags.image, store, options);
  } else {
    std::cerr << "Pulling " << ref.str() << "...\n";
    oci::Descriptor manifest;
    auto destination = oci::parse_image_reference(flags.output);
    if (destination.transport != oci::ImageReference::Transport::Oci)
      throw cog::Error(cog::ErrorKind::Usage, "--output", "only oci:DIR[:TAG] is supported", "");
    auto layout = oci::Layout::create(destination.path);
    manifest = registry::pull_image(ref, layout, options);
    layout.tag(destination.name.empty() ? "latest" : destination.name, manifest);
    std::cerr << "Digest: " << manifest.digest.str() << "\n";
  }
  if (global.debug) std::cerr << "pull stats: " << stats.summary() << "\n";
}

}  // namespace

void add_pull_command(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<PullFlags>();
  auto* pull = app.add_subcommand("pull", "Pull an image from a registry into the local image store");
  pull->add_option("IMAGE", flags->image, "Image reference")->required();
  pull->add_option("--output", flags->output, "Write into oci:DIR[:TAG] instead of the image store");
  pull->add_option("--platform", flags->platform, "Platform to pick from a multi-platform image");
  pull->add_flag("--insecure", flags->insecure, "Allow plain HTTP and unverified TLS to the registry");
  pull->add_option("--ca-bundle", flags->ca_bundle, "PEM file of CAs to trust (default: $COG_REGISTRY_CA_BUNDLE)");
  pull->callback([flags, &global] { run_pull(*flags, global); });
}

}  // namespace cog::cli
