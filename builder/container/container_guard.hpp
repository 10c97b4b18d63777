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

#include "builder/container/container_records.hpp"

namespace cog::builder::container {

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
  int disarm_fd_ = -1;  // our end of the watchdog's socket
  pid_t watchdog_ = -1;
};

}  // namespace cog::builder::container
