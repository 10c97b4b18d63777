// The child half of process.hpp: what runs after clone, system calls only.
#include <sys/stat.h>

#include <cerrno>

#include "builder/exec/process.hpp"
#include "builder/exec/process_internal.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
using internal::ChildFailure;
using internal::decode_wait_status;
using internal::default_path;
using internal::raw_fork;

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
  ExecPlan plan;
  const std::string& program = argv.front();
  if (program.find('/') != std::string::npos) {
    plan.candidates.push_back(program);
  } else {
    std::string path = default_path;
    for (const auto& entry : env)
      if (entry.starts_with("PATH=")) path = entry.substr(5);
    std::size_t begin = 0;
    while (begin <= path.size()) {
      auto end = path.find(':', begin);
      if (end == std::string::npos) end = path.size();
      std::string dir = path.substr(begin, end - begin);
      plan.candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
      begin = end + 1;
    }
  }
  plan.argv = std::move(argv);
  plan.env = std::move(env);
  plan.workdir = workdir.empty() ? "/" : std::move(workdir);
  for (auto& arg : plan.argv) plan.argv_ptrs.push_back(arg.data());
  plan.argv_ptrs.push_back(nullptr);
  for (auto& entry : plan.env) plan.env_ptrs.push_back(entry.data());
  plan.env_ptrs.push_back(nullptr);
  return plan;
}

int run_as_init(const ExecPlan& plan, int failure_fd) {
  pid_t command = raw_fork();
  if (command < 0) child_fail(failure_fd, "fork the command", errno);
  if (command == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action = {};
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
    setsid();
    umask(022);  // what a container step starts with, whatever cog itself runs under
    if (chdir(plan.workdir.c_str()) != 0)
      child_fail(failure_fd, "enter the working directory", errno, plan.workdir.c_str());
    int error = ENOENT;
    for (const auto& candidate : plan.candidates) {
      execve(candidate.c_str(), plan.argv_ptrs.data(), plan.env_ptrs.data());
      if (errno != ENOENT && errno != ENOTDIR) error = errno;
    }
    child_fail(failure_fd, "run", error, plan.argv.front().c_str());
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
