#include "runtime/playground/webhook_relay.hpp"

#include <algorithm>

namespace cog::runtime::playground {

WebhookRelay::WebhookRelay(RelayLimits limits) : limits_(limits) {}

void WebhookRelay::publish(const std::string& id, std::string event) {
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = events_.try_emplace(id);
    if (inserted) order_.push_back(id);
    bytes_ += event.size();
    it->second.push_back(std::move(event));
    evict_locked();
  }
  changed_.notify_all();
}

void WebhookRelay::evict_locked() {
  // Never the newest id: its events are what a reader is waiting for right now.
  while (order_.size() > 1 && (order_.size() > limits_.max_ids || bytes_ > limits_.max_bytes)) {
    auto oldest = events_.find(order_.front());
    for (const auto& event : oldest->second) bytes_ -= event.size();
    events_.erase(oldest);
    order_.pop_front();
  }
}

std::vector<std::string> WebhookRelay::wait(const std::string& id, std::size_t next,
                                            std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto available = [&] {
    if (stopped_) return true;
    auto it = events_.find(id);
    return it != events_.end() && it->second.size() > next;
  };
  changed_.wait_for(lock, timeout, available);
  std::vector<std::string> out;
  auto it = events_.find(id);
  if (stopped_ || it == events_.end() || it->second.size() <= next) return out;
  out.assign(it->second.begin() + static_cast<std::ptrdiff_t>(next), it->second.end());
  return out;
}

void WebhookRelay::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

bool WebhookRelay::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

}  // namespace cog::runtime::playground
