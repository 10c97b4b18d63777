#pragma once
// An image from the local store run as a container: unpacked once into the rootfs cache, a fresh
// writable overlay on top, a bundle, and runc/crun (or, with runtime docker/podman, loaded into
// that engine and run by it: engine_container.hpp). What `cog run IMAGE`, `cog serve` and
// `cog exec` start. Its life is tied to ours (container_guard.hpp), and constructing one first
// reaps what killed cogs left behind. The caller should have entered a private mount namespace
// (enter_private_mount_namespace) first, so the overlay can never outlive the command.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "builder/container/container_guard.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/container/gpu.hpp"
#include "builder/container/oci_runtime.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "builder/oci/image.hpp"

namespace cog::builder::container {

struct ImageRunOptions {
  std::string image;                                 // a name in the local image store
  std::vector<std::string> command;                  // replaces the image's Cmd when not empty
  std::vector<std::string> extra_args;               // appended to the Cmd (server flags)
  std::vector<std::string> env;                      // NAME=value, after the image's own
  std::optional<std::filesystem::path> project_dir;  // bound read-write at /src
  std::vector<BindMount> binds;                      // more host paths
  std::string runtime;                               // "runc", "crun", "docker", "podman", "" = detect runc/crun
  bool terminal = false;
  bool interactive = false;           // docker/podman: keep stdin open (runc always shares ours)
  GpuAccess gpus;                     // --gpus (engines get gpus.request and do the rest)
  std::string working_dir;            // "" = the image's
  std::filesystem::path store_dir;    // "" = the default store
  std::filesystem::path scratch_dir;  // "" = $XDG_RUNTIME_DIR or /tmp, for overlays and bundles
};

class ImageContainer {
 public:
  explicit ImageContainer(const ImageRunOptions& options);
  ~ImageContainer();
  ImageContainer(const ImageContainer&) = delete;
  ImageContainer& operator=(const ImageContainer&) = delete;

  const oci::ImageConfig& image_config() const { return config_; }
  const std::map<std::string, std::string>& labels() const { return config_.config.labels; }

  void start(const support::SpawnOptions& io = {});
  bool running();
  void signal(int signal_number);
  // SIGTERM, then SIGKILL after `grace_s` seconds.
  void stop(double grace_s = 10);
  support::ProcessResult wait();

 private:
  ImageRunOptions options_;
  oci::ImageConfig config_;
  std::string id_;
  OciRuntime runtime_;
  // Declared before what it guards, so that it goes last even when the constructor throws.
  std::unique_ptr<ContainerGuard> guard_;
  std::unique_ptr<Overlay> overlay_;
  std::unique_ptr<Bundle> bundle_;
  // runc/crun's Container, or docker/podman's EngineContainer (then without overlay and bundle).
  std::unique_ptr<ForegroundContainer> container_;
  std::optional<Engine> engine_;
  EngineRunSpec engine_spec_;
  std::optional<support::ProcessResult> result_;
};

// argv of the image: Entrypoint + (command or Cmd) + extra args.
std::vector<std::string> image_argv(const oci::ImageConfig& config, const std::vector<std::string>& command,
                                    const std::vector<std::string>& extra_args);

}  // namespace cog::builder::container
