#pragma once
// The record cog keeps of each container it runs (container_guard.hpp writes them), and the reaping
// of what a killed cog left behind: recorded containers whose owner is gone, and stopped ones named
// like ours that nothing recorded.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "builder/container/oci_runtime.hpp"

namespace cog::builder::container {

// What ends and removes one container without its owner's help.
struct ContainerCleanup {
  std::string id;
  std::vector<std::string> kill;                // argv: SIGKILL the container's init
  std::vector<std::string> remove;              // argv: delete it; fails harmlessly when gone
  std::vector<std::filesystem::path> unmounts;  // detached before `paths` go (the overlay)
  std::vector<std::filesystem::path> paths;     // removed last (bundle, overlay scratch)
};

// A process by pid, start time (/proc/PID/stat field 22) and boot: a reused pid is not the same
// process.
struct ProcessIdentity {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;
  std::string boot_id;
};

ProcessIdentity current_process();
bool is_alive(const ProcessIdentity& process);

// Where records live: /run/cog/containers for root (beside runc's /run/runc, cleared at boot with
// it), else $XDG_RUNTIME_DIR/cog/containers, else <tmp>/cog-<uid>/containers.
std::filesystem::path default_container_state_dir();

// The record of container `id` under `state_dir`.
std::filesystem::path record_path(const std::filesystem::path& state_dir, const std::string& id);

// Writes `cleanup`'s record, owned by `owner`, whole (under a temporary name, then renamed).
// Throws cog::Error(Io) when the directory cannot be made or written.
void write_record(const std::filesystem::path& state_dir, const ContainerCleanup& cleanup,
                  const ProcessIdentity& owner);

// Ends and removes every recorded container whose owner is gone; returns their ids. Records that
// cannot be read are dropped once older than a minute (a record is written whole, then renamed).
std::vector<std::string> reap_orphaned_containers(const std::filesystem::path& state_dir);

// Deletes `runtime`'s stopped containers named like ours ("cog-" and 12 hex digits) that have no
// record, with their bundle and overlay directories: what a cog without records (an older one)
// left behind when killed. A stopped container is safe to delete even when its owner lives: the
// foreground `runc run` that owner waits on has already returned. Returns their ids.
std::vector<std::string> reap_stopped_containers(const OciRuntime& runtime, const std::filesystem::path& state_dir);

}  // namespace cog::builder::container
