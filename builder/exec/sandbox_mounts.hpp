#pragma once
// How run_step lays out a step: the mounts it asked for, resolved and checked, and the list of
// setup operations its child performs. Internal to builder/exec.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/exec/child_ops.hpp"
#include "builder/exec/sandbox.hpp"
#include "builder/exec/skeleton.hpp"

namespace cog::builder::exec {

// A mount the step asked for (a bind, a secret, the host's resolv.conf and hosts), resolved.
struct Bind {
  std::filesystem::path source;
  std::filesystem::path target;  // absolute, normalised, inside the root
  bool read_only;
  bool directory;
};

// Where a step keeps its working files, beside the upper directory (overlayfs wants the work
// directory on the same file system).
struct StepDirs {
  std::filesystem::path root;
  std::filesystem::path work() const { return root / "work"; }
  std::filesystem::path merged() const { return root / "merged"; }
  std::filesystem::path skeleton() const { return root / "skeleton"; }
};

// Binds, secrets and name-resolution files, parents first. Throws cog::Error for missing
// sources, targets outside the root or reserved by the sandbox, and overlapping targets.
std::vector<Bind> resolve_binds(const StepSpec& step);

// What the skeleton layer must provide (mount points outside the step's tmpfs /tmp).
std::vector<MountPoint> mount_points(const std::vector<Bind>& binds);

// The child's setup, from making mounts private to dropping capabilities.
std::vector<ChildOp> mount_ops(const Rootfs& rootfs, const StepSpec& step, const StepDirs& dirs,
                               const std::vector<Bind>& binds);

}  // namespace cog::builder::exec
