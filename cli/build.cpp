// cog build: cog.yaml + the project → an OCI image in the local store, without a Docker daemon.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "builder/build/pipeline.hpp"
#include "builder/config/load.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

struct BuildFlags {
  builder::build::BuildOptions options;
  std::string config_file = "cog.yaml";
  std::string progress = "auto";
  bool separate_weights = false;
  std::string use_cuda_base_image = "auto";
  std::string use_cog_base_image;
  long timestamp = -1;
  bool print_timings = false;
};

void run_build(const BuildFlags& flags) {
  auto config_path = builder::config::find_config(std::filesystem::current_path(), flags.config_file);
  auto loaded = builder::config::load_config(config_path);
  for (const auto& warning : loaded.warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";

  builder::build::BuildOptions options = flags.options;
  options.config_file_name = flags.config_file;
  if (flags.timestamp >= 0) {
    options.source_date_epoch = flags.timestamp;
  } else if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    options.source_date_epoch = std::atoll(epoch);
  }
  options.separate_weights = flags.separate_weights;
  if (options.registry_mirror.empty()) {
    if (const char* mirror = std::getenv("COG_REGISTRY_MIRROR"); mirror && *mirror) options.registry_mirror = mirror;
  }
  const bool quiet = flags.progress == "quiet";
  auto result = builder::build::build_image(loaded, options, [&](std::string_view line) {
    if (!quiet) std::cerr << line << "\n";
  });
  if (flags.print_timings) {
    for (const auto& phase : result.phases) {
      std::cerr << "  " << phase.name << ": " << phase.elapsed.count() << " ms\n";
    }
  }
  std::cerr << "Image built as " << result.image_name << " (" << result.manifest.digest.str() << "; "
            << result.layers_built << " layers built, " << result.layers_reused << " reused)\n";
}

}  // namespace

void add_build_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto flags = std::make_shared<BuildFlags>();
  auto* build = app.add_subcommand("build", "Build an image from cog.yaml");
  build->add_option("-t,--tag", flags->options.tag,
                    "A name for the built image in the form 'repository:tag'");
  build->add_option("-o,--output", flags->options.outputs,
                    "Also write the image to oci:DIR[:TAG] or docker-archive:FILE[:REF] (repeatable)");
  build->add_flag("--no-cache", flags->options.no_cache, "Do not use cache when building the image");
  build->add_flag("--separate-weights", flags->separate_weights,
                  "Separate model weights from code in image layers");
  build->add_option("--secret", flags->options.secrets,
                    "Secrets to pass to the build environment in the form 'id=foo,src=/path/to/file'");
  build->add_option("--openapi-schema", flags->options.openapi_schema_file,
                    "Load OpenAPI schema from a file");
  build->add_option("--base-image", flags->options.base_image,
                    "Start from this image (REGISTRY/REPO[:TAG], oci:DIR[:TAG], docker-archive:FILE, or a stored image)");
  build->add_option("--registry-mirror", flags->options.registry_mirror,
                    "HOST[:PORT] to pull --base-image from when its registry cannot be reached "
                    "(default: $COG_REGISTRY_MIRROR)");
  build->add_option("--progress", flags->progress,
                    "Set type of build progress output, 'auto' (default), 'tty', 'plain', or 'quiet'")
      ->check(CLI::IsMember({"auto", "tty", "plain", "quiet"}));
  build->add_option("--use-cuda-base-image", flags->use_cuda_base_image,
                    "Use Nvidia CUDA base image, 'true' (default) or 'false' (use python base image)");
  build->add_option("--use-cog-base-image", flags->use_cog_base_image,
                    "Use pre-built Cog base image for faster cold boots");
  build->add_option("-f,--file", flags->config_file, "The name of the config file")
      ->default_val("cog.yaml");
  build->add_option("--timestamp", flags->timestamp,
                    "Number of seconds since Epoch to use for the build timestamp")
      ->group("");
  build->add_flag("--timings", flags->print_timings, "Print how long each build phase took");
  build->callback([flags] { run_build(*flags); });
}

}  // namespace cog::cli
