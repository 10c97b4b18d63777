#pragma once
// Shared by the parent and child halves of process.hpp. Internal to builder/exec.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cog::builder::exec::internal {

// What a child writes to the failure pipe; small enough for one atomic pipe write.
struct ChildFailure {
  int error = 0;
  char step[240] = {};
};

inline const char* const default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

}  // namespace cog::builder::exec::internal
