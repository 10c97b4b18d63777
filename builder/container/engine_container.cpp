#include "builder/container/engine_container.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>

#include "builder/container/runtime_spec.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "support/error.hpp"
#include "support/scratch_dir.hpp"

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

std::string engine_error_text(const support::ProcessResult& result) {
  std::string text = result.stderr_text.empty() ? result.stdout_text : result.stderr_text;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Podman has no --gpus of docker's kind; it takes CDI device names.
std::vector<std::string> podman_devices(const GpuRequest& request) {
  if (!request.cdi_names.empty()) return request.cdi_names;
  std::vector<std::string> names;
  const std::string kind = "nvidia.com/gpu=";
  if (request.all) return {kind + "all"};
  for (int i = 0; i < request.count; ++i) names.push_back(kind + std::to_string(i));
  for (int index : request.indices) names.push_back(kind + std::to_string(index));
  for (const auto& name : request.names) names.push_back(kind + name);
  return names;
}

}  // namespace

bool is_engine_runtime(const std::string& runtime) { return runtime == "docker" || runtime == "podman"; }

Engine find_engine(const std::string& name) {
  // /usr/local/bin/docker may be a stray old client; Debian's docker.io client matches its daemon.
  const fs::path debian_client = "/usr/bin/" + name;
  if (access(debian_client.c_str(), X_OK) == 0) return {name, debian_client};
  if (auto found = support::find_program(name)) return {name, *found};
  throw Error(ErrorKind::NotFound, "--runtime " + name, name + " is not installed",
              name == "docker" ? "install it (Debian: apt-get install docker.io), or leave --runtime out to use runc"
                               : "install it (Debian: apt-get install podman), or leave --runtime out to use runc");
}

std::string ensure_engine_image(const Engine& engine, const oci::Layout& layout, const oci::Descriptor& manifest,
                                const oci::Digest& config_digest, const std::string& name, const fs::path& scratch) {
  const std::string reference = oci::normalize_image_name(name);
  // Docker's image ID of a loaded image is its config digest: equal IDs mean nothing to load.
  const auto inspected =
      support::run_captured({engine.binary.string(), "image", "inspect", "--format", "{{.Id}}", reference});
  std::string id = inspected.stdout_text;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (inspected.exit_code == 0 && (id == config_digest.str() || id == config_digest.hex)) return reference;

  const fs::path dir = support::make_unique_dir(scratch, "engine-load-");
  const fs::path archive = dir / "image.tar";
  try {
    oci::ImageReference destination;
    destination.transport = oci::ImageReference::Transport::DockerArchive;
    destination.path = archive;
    destination.name = reference;
    oci::save_image(layout, manifest, destination);
    const auto loaded = support::run_captured({engine.binary.string(), "load", "-i", archive.string()});
    if (loaded.exit_code != 0) {
      throw Error(ErrorKind::Runtime, engine.name + " load", engine_error_text(loaded),
                  "check that the " + engine.name + " daemon is running and reachable (DOCKER_HOST)");
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    throw;
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return reference;
}

std::vector<std::string> engine_run_args(const Engine& engine, const EngineRunSpec& spec, const std::string& id) {
  // Sharing the host's network, the host is the loopback: host.docker.internal names it there
  // (Docker's host-gateway would be the bridge's address, which a receiver on 127.0.0.1 never sees).
  std::vector<std::string> args = {"run",       "--rm", "--name",     id,
                                   "--network", "host", "--add-host", std::string(kHostAlias) + ":127.0.0.1"};
  // As in our own spec (runtime_spec.cpp): an engine's default limits may exceed what this host
  // lets even root set (podman raises nofile and nproc, and fails where it may not); ours never do.
  for (const auto& [resource, name] : {std::pair{RLIMIT_NOFILE, "nofile"}, std::pair{RLIMIT_NPROC, "nproc"}}) {
    struct rlimit limit {};
    if (getrlimit(resource, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) continue;
    const std::string value = std::to_string(limit.rlim_max);
    args.insert(args.end(), {"--ulimit", std::string(name) + "=" + value + ":" + value});
  }
  if (spec.interactive || spec.terminal) args.push_back("--interactive");
  if (spec.terminal) args.push_back("--tty");
  for (const auto& entry : spec.env) args.insert(args.end(), {"--env", entry});
  if (!spec.cwd.empty()) args.insert(args.end(), {"--workdir", spec.cwd});
  for (const auto& bind : spec.binds) {
    args.insert(args.end(), {"--volume", fs::absolute(bind.source).string() + ":" + bind.destination +
                                             (bind.read_only ? ":ro" : "")});
  }
  if (!spec.gpus.empty()) {
    const GpuRequest request = parse_gpus(spec.gpus);
    if (engine.name == "podman") {
      for (const auto& device : podman_devices(request)) args.insert(args.end(), {"--device", device});
    } else if (!request.cdi_names.empty()) {
      for (const auto& device : request.cdi_names) args.insert(args.end(), {"--device", device});
    } else {
      args.insert(args.end(), {"--gpus", spec.gpus});
    }
  }
  if (spec.args.empty()) {
    throw Error(ErrorKind::Validation, spec.image, "the image has no command to run",
                "give a command, or rebuild the image with cog build");
  }
  args.insert(args.end(), {"--entrypoint", spec.args.front(), spec.image});
  args.insert(args.end(), spec.args.begin() + 1, spec.args.end());
  return args;
}

namespace {

std::vector<std::string> engine_command(const Engine& engine, std::vector<std::string> args) {
  args.insert(args.begin(), engine.binary.string());
  return args;
}

}  // namespace

ContainerCommands engine_container_commands(const Engine& engine, const EngineRunSpec& spec, const std::string& id) {
  return {engine_command(engine, engine_run_args(engine, spec, id)),
          [engine, id](int signal_number) {
            return engine_command(engine, {"kill", "--signal", std::to_string(signal_number), id});
          },
          engine_command(engine, {"rm", "--force", id})};
}

EngineContainer::EngineContainer(const Engine& engine, const EngineRunSpec& spec, std::string id,
                                 const support::SpawnOptions& io)
    : ForegroundContainer(id, engine_container_commands(engine, spec, id), io) {}

}  // namespace cog::builder::container
