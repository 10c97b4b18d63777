// The child half of process.hpp: what runs after clone, system calls only.
#include <sys/stat.h>

#include <cerrno>

#include "builder/exec/process.hpp"
#include "builder/exec/process_internal.hpp"
#include "support/child_exec.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
using internal::ChildFailure;
using internal::default_path;
using support::decode_wait_status;
using support::raw_fork;

void child_fail(int failure_fd, const char* step, int error, const char* detail) {
  ChildFailure failure;
  failure.error = error;
  std::size_t used = 0;
  auto append = [&](const char* text) {
    for (std::size_t i = 0; text && text[i] && used + 1 < sizeof(failure.step); ++i) failure.step[used++] = text[i];
  };
  append(step);
  if (detail) {
    append(" ");
    append(detail);
  }
  failure.step[used] = '\0';
  [[maybe_unused]] auto written = write(failure_fd, &failure, sizeof(failure));
  _exit(127);
}

ExecPlan make_exec_plan(std::vector<std::string> argv, std::vector<std::string> env, std::string workdir) {
  if (argv.empty() || argv.front().empty())
    throw Error(ErrorKind::Usage, "build step", "empty command", "give the step a command to run");
  std::string path = default_path;
  for (const auto& entry : env)
    if (entry.starts_with("PATH=")) path = entry.substr(5);
  ExecPlan plan;
  static_cast<support::ExecImage&>(plan) = support::prepare_exec(std::move(argv), std::move(env), path);
  plan.workdir = workdir.empty() ? "/" : std::move(workdir);
  return plan;
}

int run_as_init(const ExecPlan& plan, int failure_fd) {
  pid_t command = raw_fork();
  if (command < 0) child_fail(failure_fd, "fork the command", errno);
  if (command == 0) {
    support::reset_signals_in_child();
    setsid();
    umask(022);  // what a container step starts with, whatever cog itself runs under
    if (chdir(plan.workdir.c_str()) != 0)
      child_fail(failure_fd, "enter the working directory", errno, plan.workdir.c_str());
    child_fail(failure_fd, "run", support::exec_in_child(plan), plan.argv.front().c_str());
  }
  close(failure_fd);
  int code = -1;
  for (;;) {
    int status = 0;
    pid_t reaped = waitpid(-1, &status, 0);
    if (reaped == command) {
      code = decode_wait_status(status);
      break;
    }
    if (reaped < 0 && errno != EINTR) break;
  }
  return code;
}

}  // namespace cog::builder::exec
