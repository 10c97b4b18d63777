#include "runtime/worker/capture.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "support/error.hpp"

namespace cog::runtime::worker {
namespace {

void make_pipe(int& read_end, int& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::Io, "cog-worker", "cannot create a pipe for output capture");
  }
  read_end = fds[0];
  write_end = fds[1];
  ::fcntl(read_end, F_SETFL, ::fcntl(read_end, F_GETFL) | O_NONBLOCK);
}

}  // namespace

std::size_t complete_utf8_prefix(const std::string& data) {
  // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
  std::size_t i = data.size();
  std::size_t back = 0;
  while (i > 0 && back < 4) {
    const auto c = static_cast<unsigned char>(data[i - 1]);
    if ((c & 0xC0) != 0x80) {
      std::size_t need = 1;
      if ((c & 0xE0) == 0xC0)
        need = 2;
      else if ((c & 0xF0) == 0xE0)
        need = 3;
      else if ((c & 0xF8) == 0xF0)
        need = 4;
      return (back + 1 >= need) ? data.size() : i - 1;
    }
    --i;
    ++back;
  }
  return data.size();
}

Capture::~Capture() {
  if (thread_.joinable()) thread_.detach();
}

void Capture::redirect() {
  int stdout_write = -1;
  int stderr_write = -1;
  make_pipe(stdout_read_, stdout_write);
  make_pipe(stderr_read_, stderr_write);
  make_pipe(wake_read_, wake_write_);
  original_stderr_ = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  ::dup2(stdout_write, 1);
  ::dup2(stderr_write, 2);
  ::close(stdout_write);
  ::close(stderr_write);
}

void Capture::start(Emit emit) {
  emit_ = std::move(emit);
  thread_ = std::thread([this] { loop(); });
}

bool Capture::pending() const {
  int stdout_bytes = 0;
  int stderr_bytes = 0;
  ::ioctl(stdout_read_, FIONREAD, &stdout_bytes);
  ::ioctl(stderr_read_, FIONREAD, &stderr_bytes);
  return handing_over_ || stdout_bytes > 0 || stderr_bytes > 0;
}

void Capture::drain() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = ++drain_requested_;
  const char byte = 'd';
  while (::write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  drained_cv_.wait(lock, [&] { return drain_done_ >= target; });
}

bool Capture::read_available(int fd, const char* source, std::string& pending) {
  char chunk[65536];
  bool open = true;
  bool more = true;
  while (more) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      pending.append(chunk, static_cast<std::size_t>(n));
      if (pending.size() < (1u << 20)) continue;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n == 0) open = false;
      more = false;
    }
    // Hand over what we have: at end of the available bytes, or every MiB of a long burst.
    const std::size_t cut = open ? complete_utf8_prefix(pending) : pending.size();
    if (cut > 0) {
      emit_(source, pending.substr(0, cut));
      pending.erase(0, cut);
    }
  }
  return open;
}

void Capture::loop() {
  std::string pending_stdout;
  std::string pending_stderr;
  bool stdout_open = true;
  bool stderr_open = true;
  while (true) {
    pollfd fds[3] = {{stdout_read_, POLLIN, 0}, {stderr_read_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (!stdout_open) fds[0].fd = -1;
    if (!stderr_open) fds[1].fd = -1;
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    handing_over_ = true;
    if (fds[0].revents) stdout_open = read_available(stdout_read_, "stdout", pending_stdout);
    if (fds[1].revents) stderr_open = read_available(stderr_read_, "stderr", pending_stderr);
    handing_over_ = false;
    if (fds[2].revents) {
      char buf[64];
      while (::read(wake_read_, buf, sizeof buf) > 0) {
      }
      std::uint64_t requested;
      {
        std::lock_guard lock(mutex_);
        requested = drain_requested_;
      }
      // Everything written before the request is in the pipes now: read until they are empty.
      if (stdout_open) stdout_open = read_available(stdout_read_, "stdout", pending_stdout);
      if (stderr_open) stderr_open = read_available(stderr_read_, "stderr", pending_stderr);
      std::lock_guard lock(mutex_);
      drain_done_ = requested;
      drained_cv_.notify_all();
    }
  }
}

}  // namespace cog::runtime::worker
