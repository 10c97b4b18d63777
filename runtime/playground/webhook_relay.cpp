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
    it->second.events.push_back(std::move(event));
    evict_locked();
  }
  changed_.notify_all();
}

void WebhookRelay::evict_locked() {
  // Never the newest id: its events are what a reader is waiting for right now.
  while (order_.size() > 1 && (order_.size() > limits_.max_ids || bytes_ > limits_.max_bytes)) {
    auto oldest = events_.find(order_.front());
    for (const auto& event : oldest->second.events) bytes_ -= event.size();
    events_.erase(oldest);
    order_.pop_front();
  }
  // The newest id alone: its older states go, its latest stays (it holds all the others say).
  if (order_.empty()) return;
  auto& newest = events_.find(order_.front())->second;
  while (bytes_ > limits_.max_bytes && newest.events.size() > 1) {
    bytes_ -= newest.events.front().size();
    newest.events.pop_front();
    ++newest.first;
  }
}

std::vector<std::string> WebhookRelay::wait(const std::string& id, std::size_t next, std::chrono::milliseconds timeout,
                                            std::size_t* next_after) {
  std::unique_lock lock(mutex_);
  auto available = [&] {
    if (stopped_) return true;
    auto it = events_.find(id);
    return it != events_.end() && it->second.first + it->second.events.size() > next;
  };
  changed_.wait_for(lock, timeout, available);
  std::vector<std::string> out;
  if (next_after) *next_after = next;
  auto it = events_.find(id);
  if (stopped_ || !available()) return out;
  const auto& stream = it->second;
  const std::size_t from = next > stream.first ? next - stream.first : 0;
  out.assign(stream.events.begin() + static_cast<std::ptrdiff_t>(from), stream.events.end());
  if (next_after) *next_after = stream.first + stream.events.size();
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
