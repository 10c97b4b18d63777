#include "support/child_exec.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "support/error.hpp"

namespace cog::support {

ExecImage prepare_exec(std::vector<std::string> argv, std::vector<std::string> env, std::string_view search_path) {
  if (argv.empty() || argv.front().empty()) throw Error(ErrorKind::Usage, "spawn", "no program given", "");
  ExecImage image;
  const std::string& program = argv.front();
  if (program.find('/') != std::string::npos) {
    image.candidates.push_back(program);
  } else {
    std::size_t begin = 0;
    while (begin <= search_path.size()) {
      auto end = search_path.find(':', begin);
      if (end == std::string_view::npos) end = search_path.size();
      const std::string dir(search_path.substr(begin, end - begin));
      image.candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
      begin = end + 1;
    }
  }
  image.argv = std::move(argv);
  image.env = std::move(env);
  for (auto& arg : image.argv) image.argv_ptrs.push_back(arg.data());
  image.argv_ptrs.push_back(nullptr);
  for (auto& entry : image.env) image.env_ptrs.push_back(entry.data());
  image.env_ptrs.push_back(nullptr);
  return image;
}

pid_t raw_fork(int clone_flags) {
  return static_cast<pid_t>(syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

void reset_signals_in_child() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
}

int exec_in_child(const ExecImage& image) {
  int error = ENOENT;
  for (const auto& candidate : image.candidates) {
    execve(candidate.c_str(), image.argv_ptrs.data(), image.env_ptrs.data());
    if (errno != ENOENT && errno != ENOTDIR) error = errno;
  }
  return error;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace cog::support
