#include "support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "support/error.hpp"

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

// A child that exits without reading its stdin must not kill us with SIGPIPE: the signal is
// blocked for this thread during the write and a pending one swallowed (no process-wide SIG_IGN).
ssize_t write_no_sigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  const ssize_t written = write(fd, data, size);
  if (written < 0 && errno == EPIPE) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return written;
}

// Feeds `input` to the child's stdin while reading both captured streams until EOF, so that no
// pipe fills up and blocks the child (or us). Closes every descriptor it is given.
void exchange(int to_child, const std::string& input, int stdout_fd, int stderr_fd, ProcessResult& result) {
  std::size_t written = 0;
  if (to_child >= 0 && input.empty()) {
    close(to_child);
    to_child = -1;
  }
  int from[2] = {stdout_fd, stderr_fd};
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  char buffer[65536];
  while (from[0] >= 0 || from[1] >= 0 || to_child >= 0) {
    pollfd fds[3] = {{from[0], POLLIN, 0}, {from[1], POLLIN, 0}, {to_child, POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (from[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t count = read(from[i], buffer, sizeof buffer);
      if (count > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(count));
      } else if (count == 0 || errno != EINTR) {
        close(from[i]);
        from[i] = -1;
      }
    }
    if (to_child >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t count =
          (fds[2].revents & POLLOUT) ? write_no_sigpipe(to_child, input.data() + written, input.size() - written) : -1;
      if (count > 0) written += static_cast<std::size_t>(count);
      if ((count < 0 && errno != EINTR && errno != EAGAIN) || count == 0 || written == input.size()) {
        close(to_child);
        to_child = -1;
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
  Process process;
  process.pid_ = pid;
  process.stdout_fd_ = out.read_end;
  process.stderr_fd_ = err.read_end;
  process.stdin_fd_ = in.write_end;
  if (options.stdin_data) process.stdin_data_ = *options.stdin_data;
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_),
      stdout_fd_(other.stdout_fd_),
      stderr_fd_(other.stderr_fd_),
      stdin_fd_(other.stdin_fd_),
      stdin_data_(std::move(other.stdin_data_)),
      reaped_(other.reaped_),
      exit_status_(other.exit_status_) {
  other.pid_ = -1;
  other.stdout_fd_ = -1;
  other.stderr_fd_ = -1;
  other.stdin_fd_ = -1;
  other.reaped_ = true;
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (int fd : {stdout_fd_, stderr_fd_, stdin_fd_}) {
    if (fd >= 0) close(fd);
  }
}

ProcessResult Process::wait() {
  ProcessResult result;
  exchange(stdin_fd_, stdin_data_, stdout_fd_, stderr_fd_, result);
  stdout_fd_ = stderr_fd_ = stdin_fd_ = -1;
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
