#include "cli/environment.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "builder/pipeline/pipeline.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/container/gpu.hpp"
#include "builder/oci/store.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/registry/pull.hpp"
#include "cli/build.hpp"
#include "cli/terminal.hpp"
#include "builder/registry/transfer.hpp"
#include "support/error.hpp"

namespace cog::cli {

void add_container_flags(CLI::App* command, ContainerFlags& flags) {
  command->add_option("--runtime", flags.runtime,
                      "Runs the container with runc or crun (default: whichever is installed), or docker or podman "
                      "(the image is loaded into it first)");
  command->add_option("--progress", flags.progress, "Build progress output: auto, plain or quiet");
  command->add_option("--gpus", flags.gpus,
                      "GPU devices to add to the container, in the same format as `docker run --gpus`");
  command
      ->add_option("--use-cuda-base-image", flags.use_cuda_base_image,
                   "Use Nvidia CUDA base image, 'true' (default) or 'false' (use python base image)")
      ->check(CLI::IsMember({"auto", "true", "false"}));
  // A boolean flag as in Cog: bare (= true), or =true / =false.
  command->add_flag("--use-cog-base-image", flags.use_cog_base_image,
                    "Use pre-built Cog base image for faster cold boots");
}

std::vector<std::string> parse_env_flags(const std::vector<std::string>& values) {
  for (const auto& value : values) {
    const auto equals = value.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw Error(ErrorKind::Usage, "-e " + value, "expected the form name=value", "e.g. -e DEBUG=1");
    }
  }
  return values;
}

std::string build_dev_image(const builder::config::LoadedConfig& loaded, const std::string& config_file,
                            const ContainerFlags& flags, bool model_optional) {
  const bool quiet = flags.progress == "quiet";
  builder::pipeline::BuildOptions options;
  options.use_cuda_base_image = flags.use_cuda_base_image;
  options.use_cog_base_image = parse_cog_base_flag(flags.use_cog_base_image);
  options.dev = true;
  options.model_optional = model_optional;
  options.config_file_name = config_file;
  options.tag = (loaded.config.image.empty() ? builder::plan::default_image_name(loaded.config.project_dir)
                                             : loaded.config.image) +
                "-dev";
  std::cerr << "Building image from environment in " << config_file << "...\n";
  auto result = builder::pipeline::build_image(loaded, options, [quiet](std::string_view line) {
    if (!quiet) std::cerr << line << "\n";
  });
  return result.image_name;
}

void ensure_image(const std::string& image) {
  namespace registry = builder::registry;
  builder::oci::ImageStore store(builder::oci::default_store_path());
  auto options = registry::transfer_options_from_environment();
  options.platform = registry::parse_platform("linux/amd64");
  options.progress = &std::cerr;
  options.live_progress = stderr_is_terminal();
  registry::find_or_pull(image, store, options);
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

builder::container::GpuAccess gpu_access_for(const std::string& gpus, const std::string& image,
                                             const std::string& runtime) {
  namespace container = builder::container;
  if (gpus.empty()) return {};
  const auto request = container::parse_gpus(gpus);
  if (container::is_engine_runtime(runtime)) {
    container::GpuAccess access;
    access.request = gpus;  // docker/podman find the devices themselves
    return access;
  }
  auto access = container::plan_gpu_access(request, container::load_cdi_specs(container::cdi_spec_dirs()),
                                           container::detect_host_gpus(), container::find_nvidia_hook());
  const auto driver = container::driver_cuda_version();
  // CDI specs describe the driver themselves (its libraries are among their mounts): without a
  // libcuda for us to ask, the version check is skipped rather than the specs refused.
  if (!driver && access.method == container::GpuAccess::Method::Cdi) return access;
  if (!driver) {
    throw Error(ErrorKind::NotFound, "--gpus", "the NVIDIA driver library (libcuda.so.1) could not be loaded",
                "install the NVIDIA driver, or run without --gpus");
  }
  builder::oci::ImageStore store(builder::oci::default_store_path());
  const auto manifest = store.layout().read_manifest(store.resolve(image).digest);
  const auto image_config = store.layout().read_config(manifest).config;
  // The completed config in run.cog.config, else (development images carry no labels) the
  // CUDA_VERSION the CUDA layer sets, as nvidia/cuda images do ("12.4.1": major.minor is compared).
  std::string cuda;
  if (auto found = image_config.labels.find("run.cog.config"); found != image_config.labels.end()) {
    const auto config = nlohmann::json::parse(found->second, nullptr, false);
    cuda = config.is_object() ? config.value("/build/cuda"_json_pointer, std::string()) : "";
  }
  if (cuda.empty()) cuda = image_config.get_env("CUDA_VERSION").value_or("");
  if (!cuda.empty()) container::check_driver_supports(cuda, *driver);
  return access;
}

}  // namespace cog::cli
