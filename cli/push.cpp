// cog push [IMAGE]: resolve the target (argument > cog.yaml image, or model + COG_MODEL_*), then
// send the image from the local image store (or --from) to the registry.
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <filesystem>
#include <iostream>
#include <optional>

#include "builder/pipeline/pipeline.hpp"
#include "builder/config/load.hpp"
#include "builder/oci/store.hpp"
#include "builder/registry/login.hpp"
#include "builder/registry/push.hpp"
#include "builder/registry/push_target.hpp"
#include "cli/terminal.hpp"
#include "cli/build.hpp"
#include "cli/command.hpp"
#include "cli/push_image.hpp"

namespace cog::cli {

namespace {

struct PushFlags {
  BuildFlags build;  // as Cog, push takes build's flags for the build it does first
  std::string image;
  std::string from;
  std::string ca_bundle;
  bool insecure = false;
};

// An RFC 9562 UUIDv7: 48 bits of Unix milliseconds, version 7, the variant, 74 random bits.
std::string uuid_v7() {
  const auto millis = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::array<std::uint8_t, 16> bytes{};
  std::random_device random;
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(millis >> (8 * (5 - i)));
  bytes[6] = static_cast<std::uint8_t>(0x70 | (bytes[6] & 0x0f));
  bytes[8] = static_cast<std::uint8_t>(0x80 | (bytes[8] & 0x3f));
  std::string text;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0x0f];
  }
  return text;
}

void run_push(const PushFlags& flags, const GlobalOptions& global) {
  namespace registry = builder::registry;
  registry::PushTargetInputs inputs{flags.image, {}, {}, {}};
  std::optional<builder::config::LoadedConfig> project;
  try {
    project = builder::config::load_config(
        builder::config::find_config(std::filesystem::current_path(), flags.build.config_file));
    inputs.config_image = project->config.image;
    inputs.config_model = project->config.model;
  } catch (const cog::Error& error) {
    if (error.kind() != cog::ErrorKind::NotFound || flags.image.empty()) throw;  // no cog.yaml: fine with an argument
  }
  auto target = registry::resolve_push_target(inputs);
  const PushSettings settings{flags.build.progress, flags.insecure, flags.ca_bundle, global.debug};

  if (!flags.from.empty()) return push_from(flags.from, target, settings);
  // As Cog: build the project first (when it names a model to build) and push what was built.
  std::string stored =
      flags.image.empty() ? (inputs.config_model.empty() ? inputs.config_image : target.str()) : flags.image;
  if (project && (!project->config.run.empty() || !project->config.train.empty())) {
    builder::pipeline::BuildOptions build_options = build_options_from(flags.build);
    build_options.tag = target.str();
    build_options.labels["run.cog.push_id"] = uuid_v7();  // as Cog: each push is told apart
    stored = build_with_progress(*project, build_options, flags.build.progress).image_name;
  }
  auto pushed = push_stored_image(stored, target, settings);
  if (project) push_weights_index_if_any(project->config, target, pushed, settings);
}

}  // namespace

void add_push_command(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<PushFlags>();
  auto* push = app.add_subcommand("push", "Build and push model in current directory to a Docker registry");
  push->add_option("IMAGE", flags->image, "Image name, e.g. r8.im/your-username/your-model");
  add_build_flags(push, &flags->build);
  push->add_option("--from", flags->from,
                   "Push this image instead: a local image name, oci:DIR[:TAG] or docker-archive:FILE");
  push->add_flag("--insecure", flags->insecure, "Allow plain HTTP and unverified TLS to the registry");
  push->add_option("--ca-bundle", flags->ca_bundle,
                   "PEM file of CAs to trust for the registry (default: $COG_REGISTRY_CA_BUNDLE, else the system's)");
  push->callback([flags, &global] { run_push(*flags, global); });
}

}  // namespace cog::cli
