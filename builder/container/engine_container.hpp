#pragma once
// `--runtime docker|podman`: the same container, run by a container engine instead of runc/crun.
// The image is loaded from our store into the engine (a docker-archive, skipped when the engine
// already has the same image ID), then `docker run` with the semantics of our own containers:
// host network, the project at /src, env, GPUs, removed afterwards (--rm, and `rm -f` on every
// exit path we control; when cog is killed, ImageContainer's guard runs `kill` and `rm -f`).
#include <filesystem>
#include <string>
#include <vector>

#include "builder/container/foreground_container.hpp"
#include "builder/container/gpu.hpp"
#include "builder/container/runtime_spec.hpp"
#include "builder/oci/layout.hpp"
#include "support/subprocess.hpp"

namespace cog::builder::container {

struct Engine {
  std::string name;  // docker | podman
  std::filesystem::path binary;
};

// True for "docker" and "podman".
bool is_engine_runtime(const std::string& runtime);

// Finds the engine's client: for docker, Debian's /usr/bin/docker before other clients on PATH.
// Throws cog::Error(NotFound) naming the package to install.
Engine find_engine(const std::string& name);

// The engine's reference for the store image `name` (held in `layout` as `manifest`, whose
// config is `config_digest`), loading it into the engine first unless the engine has it.
std::string ensure_engine_image(const Engine& engine, const oci::Layout& layout, const oci::Descriptor& manifest,
                                const oci::Digest& config_digest, const std::string& name,
                                const std::filesystem::path& scratch);

struct EngineRunSpec {
  std::string image;              // the engine's reference
  std::vector<std::string> args;  // full argv (argv[0] becomes --entrypoint)
  std::vector<std::string> env;   // NAME=value beyond the image's own
  std::string cwd;                // "" = the image's
  std::vector<BindMount> binds;
  bool terminal = false;
  bool interactive = false;  // keep stdin open (cog exec)
  std::string gpus;          // the --gpus text, "" = none
};

// The `docker run` argv (without the binary) for `spec` as container `id`.
std::vector<std::string> engine_run_args(const Engine& engine, const EngineRunSpec& spec, const std::string& id);

// The commands that run `spec` as container `id` with `engine`, signal it and remove it.
ContainerCommands engine_container_commands(const Engine& engine, const EngineRunSpec& spec, const std::string& id);

// A container run in the foreground by `docker run`, whose exit status is the container's; signals
// go through `docker kill`, and `docker rm --force` removes it (--rm usually got there first).
class EngineContainer : public ForegroundContainer {
 public:
  EngineContainer(const Engine& engine, const EngineRunSpec& spec, std::string id,
                  const support::SpawnOptions& io = {});
};

}  // namespace cog::builder::container
