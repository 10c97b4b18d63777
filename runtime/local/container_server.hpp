#pragma once
// A Cog image's server run in a local container (runc/crun): what `cog run IMAGE`, `cog run`
// (dev image) and `cog serve` drive. The container shares the host's network, so the server
// listens on the host port directly (PORT), bound to `host`.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "builder/container/image_container.hpp"
#include "runtime/local/serve_settings.hpp"

namespace cog::runtime::local {

struct ContainerServerOptions : ServeSettings {
  std::string image;                                 // a name in the local image store
  std::vector<std::string> env;                      // -e NAME=value
  std::optional<std::filesystem::path> project_dir;  // dev images: the project at /src
  std::string runtime;                               // runc | crun | docker | podman | "" = detect runc/crun
  builder::container::GpuAccess gpus;
  std::vector<builder::container::BindMount> binds;  // more host paths (managed weights)
};

class ContainerServer {
 public:
  // Prepares the container (root file system, overlay, bundle) without starting it, so the
  // image's labelled schema can check inputs first.
  explicit ContainerServer(ContainerServerOptions options);
  ~ContainerServer();

  void start();
  void wait_ready(double timeout_s);
  int wait();
  bool running();
  // Asks the server to exit: POST /shutdown (3 s), then SIGINT (which it obeys even with
  // --await-explicit-shutdown), then SIGTERM and SIGKILL if it lingers.
  void stop();
  int port() const { return options_.port; }
  nlohmann::json get_json(const std::string& path) const;
  // The image's run.cog.openapi_schema label, parsed; null when the image has none.
  nlohmann::json labelled_schema() const;

 private:
  ContainerServerOptions options_;
  std::unique_ptr<builder::container::ImageContainer> container_;
};

}  // namespace cog::runtime::local
