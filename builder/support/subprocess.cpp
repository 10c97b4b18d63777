#include "builder/support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "builder/support/error.hpp"

extern char** environ;

namespace cog::support {
namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::Io, "pipe", std::strerror(errno), "");
  }
  return {fds[0], fds[1]};
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const auto& text : strings) pointers.push_back(const_cast<char*>(text.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// Reads both captured streams until EOF without letting one fill up and block the child.
void drain(int stdout_fd, int stderr_fd, ProcessResult& result) {
  struct pollfd fds[2] = {{stdout_fd, POLLIN, 0}, {stderr_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  char buffer[65536];
  int open_count = (stdout_fd >= 0) + (stderr_fd >= 0);
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t count = read(fds[i].fd, buffer, sizeof buffer);
      if (count > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(count));
      } else if (count == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

Process Process::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) throw Error(ErrorKind::Usage, "spawn", "no program given", "");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  posix_spawnattr_setsigmask(&attributes, &empty_mask);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&default_signals, s);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attributes, 0);
  }
  posix_spawnattr_setflags(&attributes, flags);

  Pipe out, err, in;
  if (options.capture_stdout) {
    out = make_pipe();
    posix_spawn_file_actions_adddup2(&actions, out.write_end, STDOUT_FILENO);
  }
  if (options.capture_stderr) {
    err = make_pipe();
    posix_spawn_file_actions_adddup2(&actions, err.write_end, STDERR_FILENO);
  }
  if (options.stdin_data) {
    in = make_pipe();
    posix_spawn_file_actions_adddup2(&actions, in.read_end, STDIN_FILENO);
  }
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }

  auto args = c_strings(argv);
  auto env = c_strings(options.env);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attributes, args.data(),
                        options.env.empty() ? environ : env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  for (int fd : {out.write_end, err.write_end, in.read_end}) {
    if (fd >= 0) close(fd);
  }
  if (rc != 0) {
    for (int fd : {out.read_end, err.read_end, in.write_end}) {
      if (fd >= 0) close(fd);
    }
    throw Error(ErrorKind::NotFound, argv[0], std::string("could not start: ") + std::strerror(rc),
                "check that it is installed and on PATH");
  }
  if (options.stdin_data) {
    // Small inputs only (passwords, JSON): written before the child needs to read them.
    ::signal(SIGPIPE, SIG_IGN);
    const std::string& data = *options.stdin_data;
    size_t written = 0;
    while (written < data.size()) {
      ssize_t count = write(in.write_end, data.data() + written, data.size() - written);
      if (count < 0 && errno == EINTR) continue;
      if (count <= 0) break;
      written += static_cast<size_t>(count);
    }
    close(in.write_end);
  }
  Process process;
  process.pid_ = pid;
  process.stdout_fd_ = out.read_end;
  process.stderr_fd_ = err.read_end;
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_), stdout_fd_(other.stdout_fd_), stderr_fd_(other.stderr_fd_),
      reaped_(other.reaped_), exit_status_(other.exit_status_) {
  other.pid_ = -1;
  other.stdout_fd_ = -1;
  other.stderr_fd_ = -1;
  other.reaped_ = true;
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (int fd : {stdout_fd_, stderr_fd_}) {
    if (fd >= 0) close(fd);
  }
}

ProcessResult Process::wait() {
  ProcessResult result;
  drain(stdout_fd_, stderr_fd_, result);
  stdout_fd_ = stderr_fd_ = -1;
  int status = exit_status_;
  while (!reaped_ && waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  reaped_ = true;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

bool Process::exited() {
  if (reaped_) return true;
  if (pid_ <= 0) return true;
  if (waitpid(pid_, &exit_status_, WNOHANG) == pid_) reaped_ = true;
  return reaped_;
}

void Process::signal(int signal_number) const {
  if (pid_ > 0 && !reaped_) kill(pid_, signal_number);
}

ProcessResult run_captured(const std::vector<std::string>& argv, const SpawnOptions& options) {
  SpawnOptions captured = options;
  captured.capture_stdout = true;
  captured.capture_stderr = true;
  return Process::spawn(argv, captured).wait();
}

std::optional<std::filesystem::path> find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), X_OK) == 0) return std::filesystem::path(program);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string search = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  search += ":/usr/sbin:/sbin";  // runc lives in /usr/sbin on Debian, often not on a user's PATH
  size_t start = 0;
  while (start <= search.size()) {
    size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    std::string dir = search.substr(start, end - start);
    if (!dir.empty()) {
      auto candidate = std::filesystem::path(dir) / program;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace cog::support
