#include "builder/exec/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "builder/exec/process_internal.hpp"
#include "builder/exec/unique_fd.hpp"
#include "support/child_exec.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
using internal::ChildFailure;
using support::decode_wait_status;
using support::raw_fork;

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int error) { return std::strerror(error); }

void make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw Error(ErrorKind::Io, "pipe", errno_text(errno));
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
}

// Runs in the cloned child: stdio onto the pipes, the failure pipe at fd 3, nothing else open.
[[noreturn]] void child_entry(const ChildMain& main, int devnull, int out_w, int err_w, int fail_w) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int out = fcntl(out_w, F_DUPFD, 10);
  int err = fcntl(err_w, F_DUPFD, 10);
  int fail = fcntl(fail_w, F_DUPFD_CLOEXEC, 10);
  int in = fcntl(devnull, F_DUPFD, 10);
  if (out < 0 || err < 0 || fail < 0 || in < 0) _exit(127);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup3(fail, 3, O_CLOEXEC) < 0) _exit(127);
  syscall(SYS_close_range, 4U, ~0U, 0U);
  _exit(main(3));
}

}  // namespace

ExitStatus run_child(int clone_flags, const ChildMain& child, const LineSink& sink, const RunLimits& limits,
                     std::string_view what) {
  UniqueFd out_r, out_w, err_r, err_w, fail_r, fail_w;
  make_pipe(out_r, out_w);
  make_pipe(err_r, err_w);
  make_pipe(fail_r, fail_w);
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!devnull || !wake) throw Error(ErrorKind::Io, std::string(what), errno_text(errno));

  const auto started = Clock::now();
  pid_t pid = raw_fork(clone_flags);
  if (pid < 0)
    throw Error(ErrorKind::Runtime, std::string(what), "cannot create the isolated process: " + errno_text(errno),
                "build steps need root (or CAP_SYS_ADMIN) and namespace support");
  if (pid == 0) child_entry(child, devnull.get(), out_w.get(), err_w.get(), fail_w.get());
  out_w.reset();
  err_w.reset();
  fail_w.reset();

  ExitStatus result;
  bool killed = false;
  auto kill_child = [&] {
    if (!killed) kill(pid, SIGKILL);
    killed = true;
  };
  std::stop_callback on_stop(limits.stop, [&wake] {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = write(wake.get(), &one, sizeof(one));
  });

  LineSplitter out_lines(Stream::Stdout, sink), err_lines(Stream::Stderr, sink);
  std::string failure_bytes;
  try {
    std::array<char, 65536> buffer;
    while (out_r || err_r || fail_r) {
      int wait_ms = -1;
      if (limits.timeout.count() > 0 && !killed) {
        auto left = limits.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        if (left.count() <= 0) {
          result.timed_out = true;
          kill_child();
          continue;
        }
        wait_ms = static_cast<int>(left.count());
      }
      std::array<pollfd, 4> fds = {pollfd{out_r.get(), POLLIN, 0}, pollfd{err_r.get(), POLLIN, 0},
                                   pollfd{fail_r.get(), POLLIN, 0}, pollfd{wake.get(), POLLIN, 0}};
      if (poll(fds.data(), fds.size(), wait_ms) < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorKind::Io, std::string(what), "poll: " + errno_text(errno));
      }
      if (fds[3].revents & POLLIN) {
        std::uint64_t count;
        [[maybe_unused]] auto got = read(wake.get(), &count, sizeof(count));
        if (!killed) result.cancelled = true;
        kill_child();
      }
      UniqueFd* readers[3] = {&out_r, &err_r, &fail_r};
      for (int i = 0; i < 3; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t got = read(readers[i]->get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          readers[i]->reset();
          continue;
        }
        std::string_view bytes(buffer.data(), static_cast<std::size_t>(got));
        if (i == 0)
          out_lines.feed(bytes);
        else if (i == 1)
          err_lines.feed(bytes);
        else
          failure_bytes.append(bytes);
      }
    }
    out_lines.finish();
    err_lines.finish();
  } catch (...) {
    kill_child();
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw;
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = decode_wait_status(status);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (failure_bytes.size() >= sizeof(ChildFailure) && !killed) {
    ChildFailure failure;
    std::memcpy(&failure, failure_bytes.data(), sizeof(failure));
    failure.step[sizeof(failure.step) - 1] = '\0';
    throw Error(ErrorKind::Runtime, std::string(what),
                std::string("cannot ") + failure.step + ": " + errno_text(failure.error));
  }
  return result;
}

}  // namespace cog::builder::exec
