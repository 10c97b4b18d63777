// cog debug (hidden): print the Dockerfile Cog would generate for this project.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "builder/config/compat.hpp"
#include "builder/config/load.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/plan/plan.hpp"
#include "builder/plan/render.hpp"
#include "builder/plan/wheels.hpp"
#include "cli/build.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

struct DebugOptions {
  std::string image_name;
  bool separate_weights = false;
  std::string use_cuda_base_image = "auto";
  std::string use_cog_base_image;  // "" = not given; Cog's flag is a tri-state bool
  std::string dockerfile;
  long timestamp = -1;  // accepted for Cog's sake; it rewrites layer times, not the Dockerfile
  std::string config_file = "cog.yaml";
};

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

// Cog refuses two explicitly set base-image flags, naming the first two in flag order.
void check_exclusive(const CLI::App& command) {
  std::vector<std::string> given;
  for (const char* flag : {"--use-cuda-base-image", "--use-cog-base-image", "--dockerfile"}) {
    if (command.count(flag) > 0) given.push_back(flag);
  }
  if (given.size() > 1) {
    throw Error(
        ErrorKind::Usage, "",
        "The flags " + given[0] + " and " + given[1] + " are mutually exclusive: you can only set one of them.");
  }
}

void print_warnings(const std::vector<Warning>& warnings) {
  for (const auto& warning : warnings) std::cerr << "cog: warning: " << warning.describe() << "\n";
}

void run_debug(const CLI::App& command, const DebugOptions& options) {
  check_exclusive(command);
  auto config_path = builder::config::find_config(std::filesystem::current_path(), options.config_file);
  auto loaded = builder::config::load_config(config_path);
  print_warnings(loaded.warnings);

  if (!options.dockerfile.empty()) {
    std::ifstream file(options.dockerfile, std::ios::binary);
    if (!file) throw Error(ErrorKind::NotFound, options.dockerfile, "cannot read the Dockerfile");
    std::cout << file.rdbuf();
    return;
  }

  builder::plan::PlanOptions plan_options;
  plan_options.base.use_cog_base_image = parse_cog_base_flag(options.use_cog_base_image);
  plan_options.base.use_cuda_base_image = options.use_cuda_base_image;
  plan_options.base.registry_host = env_or("COG_REGISTRY_HOST", "r8.im");
  plan_options.separate_weights = options.separate_weights;
  plan_options.config_file_name = options.config_file;
  plan_options.ca_cert = !env_or("COG_CA_CERT", "").empty();
  const auto sdk_wheel = builder::plan::sdk_wheel_setting(config_path.parent_path());
  builder::plan::coglet_wheel_setting(config_path.parent_path());  // a missing path is an error here too
  plan_options.sdk_wheel = sdk_wheel.path.empty() ? sdk_wheel.value : sdk_wheel.path.string();
  plan_options.image_name = options.image_name;
  if (plan_options.image_name.empty()) plan_options.image_name = loaded.config.image;
  if (plan_options.image_name.empty()) {
    plan_options.image_name = builder::plan::default_image_name(config_path.parent_path());
  }

  auto plan =
      builder::plan::make_plan(std::move(loaded.config), builder::config::CompatMatrix::builtin(), plan_options);
  print_warnings(plan.warnings);
  std::cout << builder::plan::render_debug_output(plan);
}

}  // namespace

void add_debug_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto options = std::make_shared<DebugOptions>();
  auto* debug = app.add_subcommand("debug", "Generate a Dockerfile from cog");
  debug->group("");  // hidden, as in Cog
  debug->add_option("--image-name", options->image_name, "The image name to use for the generated Dockerfile");
  debug->add_flag("--separate-weights", options->separate_weights, "Separate model weights from code in image layers");
  debug->add_option("--use-cuda-base-image", options->use_cuda_base_image,
                    "Use Nvidia CUDA base image, 'true' (default) or 'false' (use python base "
                    "image). False results in a smaller image but may cause problems for "
                    "non-torch projects");
  debug->add_flag("--use-cog-base-image", options->use_cog_base_image,
                  "Use pre-built Cog base image for faster cold boots");
  debug
      ->add_option("--dockerfile", options->dockerfile,
                   "Path to a Dockerfile. If set, cog will use this Dockerfile instead of "
                   "generating one from cog.yaml")
      ->group("");
  debug
      ->add_option("--timestamp", options->timestamp,
                   "Number of seconds since Epoch to use for the build timestamp; this rewrites "
                   "the timestamp of each layer. Useful for reproducibility. (`-1` to disable "
                   "timestamp rewrites)")
      ->group("");
  debug->add_option("-f,--file", options->config_file, "The name of the config file.");
  debug->callback([debug, options] { run_debug(*debug, *options); });
}

}  // namespace cog::cli
