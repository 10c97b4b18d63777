// cog build: cog.yaml + the project → an OCI image in the local store, without a Docker daemon.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "builder/pipeline/pipeline.hpp"
#include "builder/plan/wheels.hpp"
#include "cli/progress_view.hpp"
#include "builder/config/load.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/registry/push_target.hpp"
#include "cli/build.hpp"
#include "cli/command.hpp"
#include "cli/push_image.hpp"

namespace cog::cli {
namespace {

// What only `cog build` takes, beyond the flags it shares with `cog push`.
struct BuildCommandFlags : BuildFlags {
  bool print_timings = false;
  bool push = false;
  bool load = false;
};

// A name says which registry it lives in when its first component is a host (has a dot or a
// port, or is localhost), as Docker reads names; `hello` would silently mean Docker Hub.
bool names_registry(const std::string& name) {
  auto slash = name.find('/');
  if (slash == std::string::npos) return false;
  std::string first = name.substr(0, slash);
  return first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost";
}

// Where --push sends the image: -t, else cog.yaml's `image` (or `model` with COG_MODEL_*), as `cog push`.
builder::registry::Reference push_target_for(const std::string& tag, const builder::config::Config& config) {
  if (tag.empty() && config.image.empty() && config.model.empty()) {
    throw Error(ErrorKind::Usage, "--push",
                "To push images, you must either set the 'image' option in cog.yaml or pass an image name "
                "with -t",
                "for example 'cog build -t registry.hooli.corp/hotdog-detector --push'");
  }
  const std::string& name = tag.empty() ? config.image : tag;
  if (!name.empty() && !names_registry(name)) {
    throw Error(ErrorKind::Usage, "--push", "the image name '" + name + "' names no registry",
                "name the registry host, e.g. -t r8.im/<owner>/" + name + " or -t localhost:5000/" + name);
  }
  if (!tag.empty()) return builder::registry::parse_reference(tag);
  return builder::registry::resolve_push_target({"", config.image, config.model, {}});
}

// What --load hands the image to: docker, else podman (found as `--runtime docker|podman` finds them).
builder::container::Engine engine_for_load() {
  for (const char* name : {"docker", "podman"}) {
    try {
      return builder::container::find_engine(name);
    } catch (const Error& error) {
      if (error.kind() != ErrorKind::NotFound) throw;
    }
  }
  throw Error(ErrorKind::NotFound, "--load", "neither docker nor podman is installed",
              "install one (Debian: apt-get install docker.io), or write the image with -o docker-archive:FILE "
              "and load that where docker runs");
}

// Each -o checked before building (an unknown transport is an error, not a store name), and spelled
// out in full: a docker-archive without :REF carries the image's name, so `docker load` tags it.
void resolve_outputs(std::vector<std::string>& outputs, const std::string& image_name) {
  for (auto& output : outputs) output = builder::oci::parse_output_reference(output, image_name).str();
}

void run_build(const BuildCommandFlags& flags, const GlobalOptions& global) {
  auto config_path = builder::config::find_config(std::filesystem::current_path(), flags.config_file);
  auto loaded = builder::config::load_config(config_path);
  for (const auto& warning : loaded.warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";

  builder::pipeline::BuildOptions options = build_options_from(flags);
  if (global.debug) {
    const auto sdk = builder::plan::sdk_wheel_setting(loaded.config.project_dir);
    const auto coglet = builder::plan::coglet_wheel_setting(loaded.config.project_dir);
    const bool cog_runtime = builder::plan::uses_cog_runtime(sdk, coglet);
    for (const auto& wheel : {sdk, coglet}) {
      std::cerr << "cog: debug: " << builder::plan::describe_wheel_setting(wheel, cog_runtime) << "\n";
    }
  }
  // Both checked before building, so a mistake costs no build.
  std::optional<builder::registry::Reference> push_target;
  if (flags.push) {
    push_target = push_target_for(options.tag, loaded.config);
    if (options.tag.empty()) options.tag = push_target->str();
  }
  std::optional<builder::container::Engine> engine;
  if (flags.load) engine = engine_for_load();
  resolve_outputs(options.outputs, builder::plan::build_image_name(options.tag, loaded.config));

  auto result = build_with_progress(loaded, options, flags.progress);
  if (flags.print_timings) {
    for (const auto& phase : result.phases) {
      std::cerr << "  " << phase.name << ": " << phase.elapsed.count() << " ms\n";
    }
  }
  std::cerr << "Image built as " << result.image_name << " (" << result.manifest.digest.str() << "; "
            << result.layers_built << " layers built, " << result.layers_reused << " reused)\n";
  if (push_target) {
    const PushSettings settings{flags.progress, false, {}, global.debug};
    auto pushed = push_stored_image(result.image_name, *push_target, settings);
    push_weights_index_if_any(loaded.config, *push_target, pushed, settings);
  }
  if (engine) {
    builder::oci::ImageStore store(options.store_dir.empty() ? builder::oci::default_store_path() : options.store_dir);
    std::cerr << "Loading " << result.image_name << " into " << engine->name << "...\n";
    const auto config_digest = store.layout().read_manifest(result.manifest.digest).config.digest;
    std::cerr << "Loaded "
              << builder::container::ensure_engine_image(*engine, store.layout(), result.manifest, config_digest,
                                                         result.image_name, store.layout().root() / ".cog-load")
              << " into " << engine->name << "\n";
  }
}

}  // namespace

std::optional<bool> parse_cog_base_flag(const std::string& value) {
  if (value.empty()) return std::nullopt;
  for (const char* yes : {"true", "1", "t", "T", "TRUE", "True"}) {
    if (value == yes) return true;
  }
  for (const char* no : {"false", "0", "f", "F", "FALSE", "False"}) {
    if (value == no) return false;
  }
  throw Error(ErrorKind::Usage, "--use-cog-base-image", "invalid argument \"" + value + "\": expected true or false",
              "write --use-cog-base-image, --use-cog-base-image=true or --use-cog-base-image=false");
}

builder::pipeline::BuildOptions build_options_from(const BuildFlags& flags) {
  builder::pipeline::BuildOptions options = flags.options;
  options.config_file_name = flags.config_file;
  if (flags.timestamp >= 0) {
    options.source_date_epoch = flags.timestamp;
  } else if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    options.source_date_epoch = std::atoll(epoch);
  }
  options.separate_weights = flags.separate_weights;
  options.use_cuda_base_image = flags.use_cuda_base_image;
  options.use_cog_base_image = parse_cog_base_flag(flags.use_cog_base_image);
  if (options.registry_mirror.empty()) {
    if (const char* mirror = std::getenv("COG_REGISTRY_MIRROR"); mirror && *mirror) options.registry_mirror = mirror;
  }
  return options;
}

builder::pipeline::BuildResult build_with_progress(const builder::config::LoadedConfig& loaded,
                                                   const builder::pipeline::BuildOptions& options,
                                                   const std::string& mode) {
  if (!progress_is_live(mode)) {
    return builder::pipeline::build_image(loaded, options, [&](std::string_view line) {
      if (mode != "quiet") std::cerr << line << "\n";
    });
  }
  TerminalProgress::Options view_options;
  view_options.out = &std::cerr;
  TerminalProgress view(view_options);
  auto result = builder::pipeline::build_image(loaded, options, [&](std::string_view line) { view.feed(line); });
  view.finish(true);  // when build_image throws, the view's destructor shows the failed step instead
  return result;
}

void add_build_flags(CLI::App* build, BuildFlags* flags) {
  build->add_flag("--no-cache", flags->options.no_cache, "Do not use cache when building the image");
  build->add_flag("--separate-weights", flags->separate_weights, "Separate model weights from code in image layers");
  build->add_option("--secret", flags->options.secrets,
                    "Secrets to pass to the build environment in the form 'id=foo,src=/path/to/file'");
  build->add_option("--openapi-schema", flags->options.openapi_schema_file, "Load OpenAPI schema from a file");
  build->add_option(
      "--base-image", flags->options.base_image,
      "Start from this image (REGISTRY/REPO[:TAG], oci:DIR[:TAG], docker-archive:FILE, or a stored image)");
  build->add_option("--registry-mirror", flags->options.registry_mirror,
                    "HOST[:PORT] to pull --base-image from when its registry cannot be reached "
                    "(default: $COG_REGISTRY_MIRROR)");
  build
      ->add_option("--progress", flags->progress,
                   "Set type of build progress output, 'auto' (default), 'tty', 'plain', or 'quiet'")
      ->check(CLI::IsMember({"auto", "tty", "plain", "quiet"}));
  build
      ->add_option("--use-cuda-base-image", flags->use_cuda_base_image,
                   "Use Nvidia CUDA base image, 'true' (default) or 'false' (use python base image)")
      ->check(CLI::IsMember({"auto", "true", "false"}));
  // A boolean flag as in Cog: bare (= true), or =true / =false.
  build->add_flag("--use-cog-base-image", flags->use_cog_base_image,
                  "Use pre-built Cog base image for faster cold boots");
  build->add_option("-f,--file", flags->config_file, "The name of the config file")->default_val("cog.yaml");
  build->add_option("--timestamp", flags->timestamp, "Number of seconds since Epoch to use for the build timestamp")
      ->group("");
}

void add_build_command(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<BuildCommandFlags>();
  auto* build = app.add_subcommand("build", "Build an image from cog.yaml");
  build->add_option("-t,--tag", flags->options.tag, "A name for the built image in the form 'repository:tag'");
  build->add_option("-o,--output", flags->options.outputs,
                    "Also write the image to oci:DIR[:TAG] or docker-archive:FILE[:REF] (repeatable)");
  add_build_flags(build, flags.get());
  build->add_flag("--timings", flags->print_timings, "Print how long each build phase took");
  build->add_flag("--push", flags->push,
                  "Push the image to its registry after the build (the name from -t or cog.yaml's image)");
  build->add_flag("--load", flags->load, "Load the image into docker (or podman) after the build");
  build->callback([flags, &global] { run_build(*flags, global); });
}

}  // namespace cog::cli
