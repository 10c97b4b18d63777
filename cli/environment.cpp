#include "cli/environment.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "builder/build/pipeline.hpp"
#include "builder/container/gpu.hpp"
#include "builder/oci/store.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/support/error.hpp"

namespace cog::cli {

void add_container_flags(CLI::App* command, ContainerFlags& flags) {
  command->add_option("--runtime", flags.runtime, "OCI runtime for the container: runc or crun (default: detect)");
  command->add_option("--progress", flags.progress, "Build progress output: auto, plain or quiet");
  command->add_option("--gpus", flags.gpus,
                      "GPU devices to add to the container, in the same format as `docker run --gpus`");
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
                            bool quiet) {
  builder::build::BuildOptions options;
  options.dev = true;
  options.config_file_name = config_file;
  options.tag = (loaded.config.image.empty() ? builder::plan::default_image_name(loaded.config.project_dir)
                                             : loaded.config.image) +
                "-dev";
  std::cerr << "Building image from environment in " << config_file << "...\n";
  auto result = builder::build::build_image(loaded, options, [quiet](std::string_view line) {
    if (!quiet) std::cerr << line << "\n";
  });
  return result.image_name;
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

std::vector<std::string> gpu_devices_for(const std::string& gpus, const std::string& image) {
  namespace container = builder::container;
  if (gpus.empty()) return {};
  auto devices = container::gpu_devices(container::parse_gpus(gpus), container::detect_host_gpus());
  const auto driver = container::driver_cuda_version();
  if (!driver) {
    throw Error(ErrorKind::NotFound, "--gpus", "the NVIDIA driver library (libcuda.so.1) could not be loaded",
                "install the NVIDIA driver, or run without --gpus");
  }
  builder::oci::ImageStore store(builder::oci::default_store_path());
  const auto manifest = store.layout().read_manifest(store.resolve(image).digest);
  const auto labels = store.layout().read_config(manifest).config.labels;
  if (auto found = labels.find("run.cog.config"); found != labels.end()) {
    const auto config = nlohmann::json::parse(found->second, nullptr, false);
    const auto cuda = config.is_object() ? config.value("/build/cuda"_json_pointer, std::string()) : "";
    if (!cuda.empty()) container::check_driver_supports(cuda, *driver);
  }
  return devices;
}

}  // namespace cog::cli
