#pragma once
// One isolated build step: a command run as root over read-only layers plus a fresh overlayfs
// upper directory, in its own mount, pid, uts and ipc namespaces (and network, when cut off).
// Afterwards the upper directory holds exactly the step's changes (whiteouts are 0/0 character
// devices, opaque directories carry trusted.overlay.opaque=y), ready for
// oci::write_layer_from_overlay. Nothing the sandbox mounts is ever visible outside the step,
// so every exit path (success, failure, timeout, cancellation, a crash of cog) leaves no mount.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/exec/output.hpp"
#include "builder/exec/process.hpp"

namespace cog::builder::exec {

// A host directory or file visible inside the step. Never part of the layer.
struct BindMount {
  std::filesystem::path source;  // on the host; must exist
  std::filesystem::path target;  // absolute path inside the root
  bool read_only = false;
};

// Cog's `--mount=type=secret,id=…,target=…`: a host file readable only during the step.
struct SecretMount {
  std::filesystem::path source;  // on the host
  std::filesystem::path target;  // inside the root; relative to workdir unless absolute; required
};

enum class Network { Host, None };

struct StepSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in env's PATH when it has no slash
  std::vector<std::string> env;   // NAME=value: exactly what the command sees
  std::string workdir = "/";      // must exist in the root
  std::vector<BindMount> binds;   // caches (pip, apt archives), read-only inputs
  std::vector<SecretMount> secrets;
  Network network = Network::Host;
  std::string hostname = "cog-build";
  RunLimits limits;
};

struct Rootfs {
  // Read-only layers, the base first and the newest last (image order). Never written.
  std::vector<std::filesystem::path> lowers;
  // Receives the step's changes: must not exist yet, or be empty. Its parent must be on a file
  // system that overlayfs accepts as upper (ext4, xfs, btrfs, tmpfs).
  std::filesystem::path upper;
};

// Runs the step and returns how it ended (a non-zero exit code is not an exception). Throws
// cog::Error when the step cannot be set up (missing layer, bad mount target, no privileges).
// Blocks the calling thread, which must stay alive until it returns.
ExitStatus run_step(const Rootfs& rootfs, const StepSpec& step, const LineSink& sink);

// The upper directory as the capture expects it: overlayfs bookkeeping xattrs (origin, impure,
// …; not opaque) removed and shared whiteout inodes split. run_step calls it; exposed for tests
// and for upper directories produced elsewhere.
void tidy_upper(const std::filesystem::path& upper);

}  // namespace cog::builder::exec
