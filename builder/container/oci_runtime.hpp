#pragma once
// Starting a bundle with a real OCI runtime (runc or crun), and cleaning it up on every exit path.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/container/foreground_container.hpp"
#include "builder/container/runtime_spec.hpp"
#include "support/subprocess.hpp"

namespace cog::builder::container {

enum class RuntimeKind { Runc, Crun };

struct OciRuntime {
  RuntimeKind kind = RuntimeKind::Runc;
  std::filesystem::path binary;
  std::string name() const { return kind == RuntimeKind::Runc ? "runc" : "crun"; }
};

// `preferred` is "runc", "crun" or "" (auto: runc, then crun). Throws cog::Error naming what to
// install when none is found.
OciRuntime detect_runtime(const std::string& preferred = "");

// A bundle directory (config.json + the rootfs path it names) owned for the container's lifetime.
class Bundle {
 public:
  // Writes config.json for `spec` into a fresh directory under `parent`.
  Bundle(const std::filesystem::path& parent, const ContainerSpec& spec);
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// The commands that run bundle `bundle` as container `id` with `runtime`, signal it and remove it.
ContainerCommands container_commands(const OciRuntime& runtime, const Bundle& bundle, const std::string& id);

// A container started in the foreground (`runc run`): its stdio is ours unless captured; signals
// go through `runc kill`, and `runc delete --force` removes it.
class Container : public ForegroundContainer {
 public:
  Container(const OciRuntime& runtime, const Bundle& bundle, std::string id, const support::SpawnOptions& io = {});
};

// The argv that runs `runtime` with `args`, wrapped where the host needs it: crun refuses this
// host's hybrid cgroup v1/v2 layout unless /sys/fs/cgroup/unified is hidden, which we do in a
// private mount namespace so the host never sees the change.
std::vector<std::string> runtime_command(const OciRuntime& runtime, std::vector<std::string> args);

// A unique container id with a readable prefix, e.g. "cog-run-1a2b3c4d".
std::string new_container_id(const std::string& prefix);

}  // namespace cog::builder::container
