#include "support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "support/child_exec.hpp"
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

// The child's side of spawn(), between the fork and the exec: system calls only. Reports the
// errno of a failed step on `failure_fd` (closed on exec, so the parent reads EOF on success).
[[noreturn]] void run_child(const ExecImage& image, const SpawnOptions& options, const char* cwd, pid_t parent,
                            int stdin_fd, int stdout_fd, int stderr_fd, int failure_fd) {
  if (options.die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent ended before the line above
  }
  if (options.new_process_group) setpgid(0, 0);
  reset_signals_in_child();
  // The failure pipe must not stand where a descriptor is about to be put.
  int highest_target = STDERR_FILENO;
  for (const auto& [source, target] : options.fd_map) highest_target = std::max(highest_target, target);
  if (failure_fd <= highest_target) failure_fd = fcntl(failure_fd, F_DUPFD_CLOEXEC, highest_target + 1);
  auto put = [](int source, int target) {
    if (source < 0) return;
    if (source == target) {
      fcntl(target, F_SETFD, 0);  // dup2 onto itself would leave close-on-exec set
    } else {
      dup2(source, target);
    }
  };
  put(stdin_fd, STDIN_FILENO);
  put(stdout_fd, STDOUT_FILENO);
  put(stderr_fd, STDERR_FILENO);
  for (const auto& [source, target] : options.fd_map) put(source, target);
  int error = 0;
  if (*cwd && chdir(cwd) != 0) {
    error = errno;
  } else {
    error = exec_in_child(image);
  }
  [[maybe_unused]] auto written = write(failure_fd, &error, sizeof error);
  _exit(127);
}

}  // namespace

Process Process::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) throw Error(ErrorKind::Usage, "spawn", "no program given", "");
  std::vector<std::string> env = options.env;
  if (env.empty()) {
    for (char** entry = environ; *entry; ++entry) env.emplace_back(*entry);
  }
  // A bare name is looked up in our own PATH, as posix_spawnp and execvp do.
  const char* search_path = std::getenv("PATH");
  const ExecImage image = prepare_exec(argv, std::move(env), search_path ? search_path : "/bin:/usr/bin");
  const std::string cwd = options.cwd.string();

  Pipe out, err, in;
  if (options.capture_stdout) out = make_pipe();
  if (options.capture_stderr) err = make_pipe();
  if (options.stdin_data) in = make_pipe();
  Pipe failure = make_pipe();
  const pid_t parent = getpid();
  const pid_t pid = raw_fork();
  if (pid == 0) {
    run_child(image, options, cwd.c_str(), parent, in.read_end, out.write_end, err.write_end, failure.write_end);
  }
  const int fork_error = errno;
  for (int fd : {out.write_end, err.write_end, in.read_end, failure.write_end}) {
    if (fd >= 0) close(fd);
  }
  int child_error = pid < 0 ? fork_error : 0;
  if (pid > 0) {
    ssize_t count = 0;
    while ((count = read(failure.read_end, &child_error, sizeof child_error)) < 0 && errno == EINTR) {
    }
    if (count != static_cast<ssize_t>(sizeof child_error)) child_error = 0;  // EOF: the exec happened
  }
  close(failure.read_end);
  if (child_error != 0) {
    if (pid > 0) {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    for (int fd : {out.read_end, err.read_end, in.write_end}) {
      if (fd >= 0) close(fd);
    }
    throw Error(ErrorKind::NotFound, argv[0], std::string("could not start: ") + std::strerror(child_error),
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
  result.wait_status = status;
  result.exit_code = decode_wait_status(status);
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
