#pragma once
// Shared by the parent and child halves of process.hpp. Internal to builder/exec.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cog::builder::exec::internal {

// What a child writes to the failure pipe; small enough for one atomic pipe write.
struct ChildFailure {
  int error = 0;
  char step[240] = {};
};

inline const char* const default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// fork() without glibc's atfork handlers and malloc locks, which may be held by another thread.
inline pid_t raw_fork(int flags = 0) {
  return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

inline int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace cog::builder::exec::internal
