#include "builder/container/container_guard.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "support/child_exec.hpp"
#include "support/error.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace cog::builder::container {
namespace {

// A command ready for execve in the watchdog's forked child, where nothing may allocate; none
// for an empty argv. /usr/sbin and /sbin are searched too, as support::find_program does: runc
// lives there on Debian, often not on a user's PATH.
std::optional<support::ExecImage> prepare_command(std::vector<std::string> args) {
  if (args.empty() || args.front().empty()) return std::nullopt;
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) env.emplace_back(*entry);
  const char* path = std::getenv("PATH");
  const std::string search = std::string(path ? path : "/usr/local/bin:/usr/bin:/bin") + ":/usr/sbin:/sbin";
  return support::prepare_exec(std::move(args), std::move(env), search);
}

// Everything the watchdog does, prepared before the fork.
struct WatchdogPlan {
  std::optional<support::ExecImage> kill;
  std::optional<support::ExecImage> remove;
  std::vector<std::string> unmounts;
  std::optional<support::ExecImage> remove_files;  // rm -rf the paths and the record
};

// Async-signal-safe only from here to the end of watchdog_main: the fork may have copied locks
// that other threads held.
void run_and_wait(const std::optional<support::ExecImage>& command) {
  if (!command) return;
  const pid_t pid = fork();
  if (pid == 0) {
    support::exec_in_child(*command);
    _exit(127);
  }
  if (pid < 0) return;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void watchdog_main(int read_end, const WatchdogPlan& plan, long max_fd) {
  prctl(PR_SET_NAME, "cog-watchdog", 0, 0, 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  // Only SIGKILL stops it early: a SIGTERM sent to everything (a CI job ending) must still find
  // it there when cog is gone.
  for (const int number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2}) {
    sigaction(number, &ignore, nullptr);
  }
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGCHLD, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // Keep only the socket (as fd 3): holding cog's stdout or stderr would keep whoever reads them
  // waiting, and holding other descriptors would keep them open past cog.
  if (read_end != 3) dup2(read_end, 3);
  const int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    for (int fd = 0; fd < 3; ++fd) dup2(null_fd, fd);
  }
  if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
    for (long fd = 4; fd < max_fd; ++fd) close(static_cast<int>(fd));
  }

  char byte = 0;
  ssize_t count = 0;
  while ((count = read(3, &byte, 1)) < 0 && errno == EINTR) {
  }
  if (count == 1) _exit(0);  // cog removed the container itself
  close(3);
  run_and_wait(plan.kill);
  run_and_wait(plan.remove);
  for (const auto& path : plan.unmounts) umount2(path.c_str(), MNT_DETACH);
  run_and_wait(plan.remove_files);
  _exit(0);
}

}  // namespace

ContainerGuard::ContainerGuard(ContainerCleanup cleanup, const fs::path& state_dir)
    : record_(record_path(state_dir, cleanup.id)) {
  write_record(state_dir, cleanup, current_process());

  std::vector<std::string> remove_files = {"rm", "-rf", "--"};
  for (const auto& path : cleanup.paths) remove_files.push_back(path.string());
  remove_files.push_back(record_.string());
  std::vector<std::string> unmounts;
  for (const auto& path : cleanup.unmounts) unmounts.push_back(path.string());
  const WatchdogPlan plan{prepare_command(cleanup.kill), prepare_command(cleanup.remove), unmounts,
                          prepare_command(remove_files)};
  const long max_fd = sysconf(_SC_OPEN_MAX) > 0 ? sysconf(_SC_OPEN_MAX) : 1024;

  // A socket rather than a pipe: writing to a watchdog that is already dead must not raise
  // SIGPIPE in cog (MSG_NOSIGNAL).
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    const std::string reason = std::strerror(errno);
    std::error_code ignored;
    fs::remove(record_, ignored);
    throw Error(ErrorKind::Runtime, "container watchdog", "cannot create its socket: " + reason, "");
  }
  // Forked twice, so that the watchdog is no descendant of ours either: whatever kills cog's
  // process tree, or its process group, spares it. The middle process reports its pid and exits.
  const pid_t middle = fork();
  if (middle == 0) {
    setsid();  // a session and process group of its own, which the watchdog inherits
    pid_t watchdog = fork();
    if (watchdog == 0) watchdog_main(fds[0], plan, max_fd);
    while (write(fds[0], &watchdog, sizeof watchdog) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(fds[0]);
  pid_t watchdog = -1;
  if (middle > 0) {
    int status = 0;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    if (recv(fds[1], &watchdog, sizeof watchdog, MSG_WAITALL) != sizeof watchdog) watchdog = -1;
  }
  if (watchdog < 0) {
    const std::string reason = std::strerror(errno);
    close(fds[1]);
    std::error_code ignored;
    fs::remove(record_, ignored);
    throw Error(ErrorKind::Runtime, "container watchdog", "cannot start it: " + reason, "");
  }
  disarm_fd_ = fds[1];
  watchdog_ = watchdog;
}

ContainerGuard::~ContainerGuard() {
  const char done = 'x';
  while (send(disarm_fd_, &done, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  // The watchdog's end closes when it exits: wait for that (briefly), so that nothing of this
  // container outlives its guard.
  struct pollfd closed = {disarm_fd_, POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  char byte = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const int ready = poll(&closed, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t count = recv(disarm_fd_, &byte, 1, MSG_DONTWAIT);
    if (count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR)) break;  // gone
  }
  close(disarm_fd_);
  std::error_code ignored;
  fs::remove(record_, ignored);
}

}  // namespace cog::builder::container
