#include "builder/container/image_container.hpp"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "builder/container/container_guard.hpp"
#include "builder/oci/store.hpp"
#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

fs::path default_scratch() {
  if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir) return fs::path(dir) / "cog";
  return fs::temp_directory_path() / "cog-containers";
}

}  // namespace

std::vector<std::string> image_argv(const oci::ImageConfig& config, const std::vector<std::string>& command,
                                    const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv;
  if (config.config.entrypoint) argv = *config.config.entrypoint;
  if (!command.empty()) {
    argv.insert(argv.end(), command.begin(), command.end());
  } else if (config.config.cmd) {
    argv.insert(argv.end(), config.config.cmd->begin(), config.config.cmd->end());
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return argv;
}

ImageContainer::ImageContainer(const ImageRunOptions& options) : options_(options), id_(new_container_id("cog")) {
  // What killed cogs left behind goes first: it may hold the port we are about to serve on.
  const fs::path state_dir = default_container_state_dir();
  reap_orphaned_containers(state_dir);
  oci::ImageStore store(options.store_dir.empty() ? oci::default_store_path() : options.store_dir);
  const oci::Descriptor descriptor = store.resolve(options.image);
  const oci::Manifest manifest = store.layout().read_manifest(descriptor.digest);
  config_ = store.layout().read_config(manifest);
  const fs::path scratch = options.scratch_dir.empty() ? default_scratch() : options.scratch_dir;
  const std::vector<std::string> args = image_argv(config_, options.command, options.extra_args);
  if (args.empty()) {
    throw Error(ErrorKind::Validation, options.image, "the image has no command to run",
                "give a command, or rebuild the image with cog build");
  }
  std::vector<BindMount> binds;
  if (options.project_dir) binds.push_back({fs::absolute(*options.project_dir), "/src", false});
  binds.insert(binds.end(), options.binds.begin(), options.binds.end());

  if (is_engine_runtime(options.runtime)) {
    engine_ = find_engine(options.runtime);
    engine_spec_.image =
        ensure_engine_image(*engine_, store.layout(), descriptor, manifest.config.digest, options.image, scratch);
    engine_spec_.args = args;
    // The image's own env is in the image; GPU env comes from the engine's own --gpus handling.
    engine_spec_.env = options.env;
    engine_spec_.cwd = options.working_dir;
    engine_spec_.binds = binds;
    engine_spec_.terminal = options.terminal;
    engine_spec_.interactive = options.interactive;
    engine_spec_.gpus = options.gpus.request;
    // `docker run --rm` removes a container that ends; the guard ends one whose cog died.
    const ContainerCommands commands = engine_container_commands(*engine_, engine_spec_, id_);
    guard_ = std::make_unique<ContainerGuard>(ContainerCleanup{id_, commands.kill(SIGKILL), commands.remove, {}, {}},
                                              state_dir);
    return;
  }

  runtime_ = detect_runtime(options.runtime);
  reap_stopped_containers(runtime_, state_dir);
  RootfsCache cache(default_rootfs_cache_path(), default_layer_donors());
  overlay_ = std::make_unique<Overlay>(cache.ensure_layers(store.layout(), manifest, config_), scratch);

  ContainerSpec spec;
  spec.rootfs = overlay_->merged();
  spec.args = args;
  // One value per name: image env < GPU env (CDI, NVIDIA hook) < the caller's.
  spec.env = merge_env(merge_env(config_.config.env, options.gpus.edits.env), options.env);
  spec.cwd = !options.working_dir.empty()         ? options.working_dir
             : config_.config.working_dir.empty() ? "/"
                                                  : config_.config.working_dir;
  if (options.project_dir) fs::create_directories(overlay_->merged() / "src");
  spec.binds = binds;
  spec.terminal = options.terminal;
  spec.extra_devices = options.gpus.device_nodes;
  spec.edits = options.gpus.edits;
  bundle_ = std::make_unique<Bundle>(scratch, spec);
  const ContainerCommands commands = container_commands(runtime_, *bundle_, id_);
  guard_ = std::make_unique<ContainerGuard>(
      ContainerCleanup{
          id_, commands.kill(SIGKILL), commands.remove, {overlay_->merged()}, {bundle_->dir(), overlay_->dir()}},
      state_dir);
}

ImageContainer::~ImageContainer() {
  container_.reset();  // kills and deletes the container before its root goes away
  bundle_.reset();
  overlay_.reset();
  guard_.reset();  // last: until everything above is gone, a death of ours leaves it to the watchdog
}

void ImageContainer::start(const support::SpawnOptions& io) {
  if (engine_) {
    container_ = std::make_unique<EngineContainer>(*engine_, engine_spec_, id_, io);
    return;
  }
  container_ = std::make_unique<Container>(runtime_, *bundle_, id_, io);
}

bool ImageContainer::running() {
  if (result_ || !container_) return false;
  if (!container_->exited()) return true;
  result_ = container_->wait();
  return false;
}

void ImageContainer::signal(int signal_number) {
  if (result_) return;
  if (container_) container_->kill(signal_number);
}

void ImageContainer::stop(double grace_s) {
  if (!running()) return;
  signal(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (running()) signal(SIGKILL);
  wait();
}

support::ProcessResult ImageContainer::wait() {
  if (!result_ && container_) result_ = container_->wait();
  return result_.value_or(support::ProcessResult{});
}

}  // namespace cog::builder::container
