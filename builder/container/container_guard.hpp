#pragma once
// Tying a container's life to the cog process that started it, whatever way cog ends (SIGKILL of
// cog alone or of its whole process group included). A container outlives its starter: runc's
// init is re-parented away from us, so no PR_SET_PDEATHSIG can reach it. Two mechanisms:
//  - a watchdog, forked twice into a session of its own (so neither a process-group kill nor one
//    that walks cog's process tree reaches it), holds one end of a socket whose other end only
//    cog holds; EOF means cog died (the kernel closes its descriptors on every death), and the
//    watchdog then kills and deletes the container and removes its files. A clean exit sends one
//    byte first, and the watchdog leaves without doing anything.
//  - a record per container under a state directory (owner pid + start time + boot id, and the
//    commands that end the container): every container-using cog first reaps the records whose
//    owner is gone, for when the watchdog died too (a kill of the whole session or cgroup).
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

// Guards one container from before it starts until its owner has removed it: writes the record
// and starts the watchdog. Destroy it after the container and its files are gone (the watchdog is
// told to stand down and waited for, and the record deleted).
class ContainerGuard {
 public:
  ContainerGuard(ContainerCleanup cleanup, const std::filesystem::path& state_dir);
  ~ContainerGuard();
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;

  // Not our child (it is re-parented to init): for looking at, not for waitpid.
  pid_t watchdog_pid() const { return watchdog_; }

 private:
  std::filesystem::path record_;
  int disarm_fd_ = -1;  // our end of the watchdog's pipe
  pid_t watchdog_ = -1;
};

// Ends and removes every recorded container whose owner is gone; returns their ids. Records that
// cannot be read are dropped once older than a minute (a record is written whole, then renamed).
std::vector<std::string> reap_orphaned_containers(const std::filesystem::path& state_dir);

// Deletes `runtime`'s stopped containers named like ours ("cog-" and 12 hex digits) that have no
// record, with their bundle and overlay directories: what a cog without records (an older one)
// left behind when killed. A stopped container is safe to delete even when its owner lives: the
// foreground `runc run` that owner waits on has already returned. Returns their ids.
std::vector<std::string> reap_stopped_containers(const OciRuntime& runtime, const std::filesystem::path& state_dir);

}  // namespace cog::builder::container
