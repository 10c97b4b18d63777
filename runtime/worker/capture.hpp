#pragma once
// Everything the worker process writes to file descriptors 1 and 2 (Python, C extensions,
// subprocesses) goes into two pipes; one thread reads them and hands the bytes to a callback.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cog::runtime::worker {

class Capture {
 public:
  using Emit = std::function<void(const char* source, std::string data)>;

  ~Capture();
  // Points fds 1 and 2 at the pipes. Call before the interpreter starts.
  void redirect();
  // Starts the reader thread (call with SIGUSR1 blocked so that signals reach the main thread).
  void start(Emit emit);
  // Returns once every byte written to fds 1/2 before the call has been handed to Emit.
  void drain();
  // True when bytes wait in either pipe (a cheap check before paying for drain()).
  bool pending() const;
  // The stderr the worker was started with, for messages that must not be captured.
  int original_stderr() const { return original_stderr_; }

 private:
  void loop();
  bool read_available(int fd, const char* source, std::string& pending);

  int stdout_read_ = -1;
  int stderr_read_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  int original_stderr_ = 2;
  Emit emit_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable drained_cv_;
  std::uint64_t drain_requested_ = 0;
  std::uint64_t drain_done_ = 0;
  std::atomic<bool> handing_over_{false};  // the thread holds bytes it has not emitted yet
};

// The length of the longest prefix of `data` that does not end inside a UTF-8 sequence.
std::size_t complete_utf8_prefix(const std::string& data);

}  // namespace cog::runtime::worker
