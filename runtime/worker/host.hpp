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
#include <vector>

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
  // For an event loop (async runners) instead of next_frame(): an eventfd that is readable while
  // frames wait or once the supervisor has gone away, and the non-blocking take of every waiting
  // frame (empty when none; nullopt once the supervisor has gone away and all were taken).
  int frame_fd();
  std::optional<std::vector<std::string>> take_frames();

  void set_async(bool is_async);
  void set_active(const std::string& id);
  void clear_active(const std::string& id);
  // True when a cancel for `id` arrived before its prediction started (sync mode).
  bool take_cancel(const std::string& id);
  // Runs `check(seq)` on its own thread for each healthcheck request; unset = always healthy.
  void set_healthcheck(std::function<void(long long)> check);
  // Hands captured fd output to the supervisor before returning; free when the pipes are empty.
  void drain();
  // True when drain() has work to do (an event loop only pays a thread hop for it then).
  bool output_pending() const { return capture_.pending(); }

  // Called by the capture thread with bytes written to fd 1/2.
  void emit_log(const char* source, std::string data);
  // A line written through sys.stdout/sys.stderr; `id` is the async task's prediction, nullopt
  // for the sync one (or none). Captured fd output still pending is handed over first.
  void log(const std::string& source, std::string data, const std::optional<std::string>& id);

 private:
  void reader_loop();
  void handle(std::string payload);
  void push_frame(std::string payload);  // call with mutex_ held
  void signal_frames();                  // call with mutex_ held

  int fd_;
  Capture& capture_;
  pthread_t main_thread_;
  std::thread reader_;
  std::mutex send_mutex_;

  std::mutex mutex_;
  std::condition_variable inbox_cv_;
  std::deque<std::string> inbox_;
  int frame_fd_ = -1;  // eventfd, made by frame_fd(); written while inbox_ is non-empty or closed_
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
