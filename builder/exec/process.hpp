#pragma once
// Starting a process in fresh Linux namespaces and watching it until it ends: its output goes to a
// LineSink, a timeout or a stop request kills it (and, with CLONE_NEWPID, everything it started).
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "builder/exec/output.hpp"
#include "support/child_exec.hpp"

namespace cog::builder::exec {

struct RunLimits {
  std::chrono::milliseconds timeout{0};  // 0: no timeout
  std::stop_token stop;                  // a stop request kills the process like a timeout
};

struct ExitStatus {
  int exit_code = -1;  // the command's exit code, or 128 + signal number when a signal ended it
  bool timed_out = false;
  bool cancelled = false;
  std::chrono::milliseconds elapsed{0};

  bool ok() const { return exit_code == 0 && !timed_out && !cancelled; }
};

// The child's work. It runs in a copy of a possibly multi-threaded process, so it may only make
// system calls: no allocation, no locks, no exceptions. It reports a setup failure with
// child_fail(failure_fd, ...) and otherwise returns the exit code for the process.
using ChildMain = std::function<int(int failure_fd)>;

// Clones a child with `clone_flags` (CLONE_NEW*), stdin /dev/null, stdout and stderr piped to
// `sink`; waits for it. A failure the child reports before its command starts becomes a
// cog::Error(Runtime) whose place is `what`.
ExitStatus run_child(int clone_flags, const ChildMain& child, const LineSink& sink, const RunLimits& limits,
                     std::string_view what);

// For child code: records which setup step failed (and on what, when `detail` is given) and with
// which errno, then exits with 127.
[[noreturn]] void child_fail(int failure_fd, const char* step, int error, const char* detail = nullptr);

// The command a child finally runs, prepared in the parent so the child only reads it.
struct ExecPlan : support::ExecImage {
  std::string workdir;
};

// `env`'s PATH (or a standard one) resolves a bare argv[0]. Throws cog::Error(Usage) on empty argv.
ExecPlan make_exec_plan(std::vector<std::string> argv, std::vector<std::string> env, std::string workdir);

// For child code: forks the command (workdir, default signal handling, own session) and reaps
// every process until the command ends, as an init does. Returns its exit code (128 + signal).
int run_as_init(const ExecPlan& plan, int failure_fd);

}  // namespace cog::builder::exec
