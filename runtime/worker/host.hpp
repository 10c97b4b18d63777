#pragma once
// The C++ side of the worker that Python code calls into: the control socket (frames out, frames
// in), which predictions are running (to attribute captured output and deliver cancels), and the
// healthcheck thread.
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/ipc/frame.hpp"
#include "runtime/worker/capture.hpp"

namespace cog::runtime::worker {

class Host {
 public:
  Host(int control_fd, Capture& capture, pthread_t main_thread);

  // Starts the thread that reads frames from the supervisor (call with SIGUSR1 blocked).
  void start_reader();

  void send(std::string_view payload);
  // The next frame for Python (predict / cancel-in-async-mode / shutdown); nullopt once the
  // supervisor has gone away.
  std::optional<std::string> next_frame();

  void set_async(bool is_async);
  void set_active(const std::string& id);
  void clear_active(const std::string& id);
  // True when a cancel for `id` arrived before its prediction started (sync mode).
  bool take_cancel(const std::string& id);
  // Runs `check(seq)` on its own thread for each healthcheck request; unset = always healthy.
  void set_healthcheck(std::function<void(long long)> check);
  void drain() { capture_.drain(); }

  // Called by the capture thread with bytes written to fd 1/2.
  void emit_log(const char* source, std::string data);
  // A line written through sys.stdout/sys.stderr; `id` is the async task's prediction, nullopt
  // for the sync one (or none). Captured fd output still pending is handed over first.
  void log(const std::string& source, std::string data, const std::optional<std::string>& id);

 private:
  void reader_loop();
  void handle(std::string payload);

  int fd_;
  Capture& capture_;
  pthread_t main_thread_;
  std::thread reader_;
  std::mutex send_mutex_;

  std::mutex mutex_;
  std::condition_variable inbox_cv_;
  std::deque<std::string> inbox_;
  bool closed_ = false;
  bool async_ = false;
  std::set<std::string> active_;
  std::set<std::string> early_cancels_;
  std::function<void(long long)> healthcheck_;
  // One check runs at a time; a request that arrives meanwhile (its seq kept here, 0 = none) is
  // answered by one more run right after, never dropped.
  std::mutex healthcheck_mutex_;
  bool healthcheck_running_ = false;
  long long healthcheck_pending_ = 0;
};

}  // namespace cog::runtime::worker
