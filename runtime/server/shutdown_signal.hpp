#pragma once
// A one-way latch: /shutdown and SIGTERM/SIGINT request, main waits.
#include <condition_variable>
#include <mutex>
#include <string>

namespace cog::runtime::server {

class ShutdownSignal {
 public:
  void request(std::string reason) {
    std::lock_guard lock(mutex_);
    if (requested_) return;
    requested_ = true;
    reason_ = std::move(reason);
    cv_.notify_all();
  }
  // Blocks until requested; returns the reason.
  std::string wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return requested_; });
    return reason_;
  }
  bool requested() {
    std::lock_guard lock(mutex_);
    return requested_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool requested_ = false;
  std::string reason_;
};

}  // namespace cog::runtime::server
