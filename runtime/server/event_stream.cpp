#include "runtime/server/event_stream.hpp"

#include <algorithm>

namespace cog::runtime::server {

using nlohmann::json;

EventStream::EventStream(std::size_t capacity, std::size_t max_subscribers)
    : capacity_(capacity), keep_(std::max<std::size_t>(capacity, 256)), max_subscribers_(max_subscribers) {}

std::string EventStream::format(const std::string& event, const json& data) {
  return "event: " + event + "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

void EventStream::publish(const std::string& event, const json& data) {
  std::string text = format(event, data);
  std::lock_guard lock(mutex_);
  if (closed_) return;
  events_.push_back(std::move(text));
  ++next_;
  while (events_.size() > keep_) {
    events_.pop_front();
    ++first_;
  }
  cv_.notify_all();
}

void EventStream::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  cv_.notify_all();
}

bool EventStream::subscribe(Cursor& cursor) {
  std::lock_guard lock(mutex_);
  if (subscribers_ >= max_subscribers_) return false;
  ++subscribers_;
  if (capacity_ == 0) {
    cursor.next = next_;  // no replay: live events only
  } else {
    // Replay what the capacity allows; older events are reported as skipped by poll().
    cursor.next = next_ > capacity_ ? next_ - capacity_ : 0;
    if (cursor.next > 0) {
      cursor.pending_error = format(
          "error", json{{"error", "SSE stream replay truncated; events were dropped"}, {"skipped", cursor.next}});
    }
  }
  return true;
}

std::size_t EventStream::unsubscribe() {
  std::lock_guard lock(mutex_);
  if (subscribers_ > 0) --subscribers_;
  return subscribers_;
}

EventStream::Poll EventStream::poll(Cursor& cursor, std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  text.clear();
  if (cursor.failed) return Poll::End;
  if (!cursor.pending_error.empty()) {
    cursor.failed = true;
    text = std::move(cursor.pending_error);
    return Poll::Data;
  }
  const bool ready = cv_.wait_for(lock, timeout, [&] { return cursor.next < next_ || closed_; });
  if (!ready) return Poll::Timeout;
  if (cursor.next < first_) {
    cursor.failed = true;
    text =
        format("error", json{{"error", "SSE stream lagged; events were dropped"}, {"skipped", first_ - cursor.next}});
    return Poll::Data;
  }
  while (cursor.next < next_) {
    text += events_[cursor.next - first_];
    ++cursor.next;
  }
  if (text.empty()) return Poll::End;  // closed and fully read
  return Poll::Data;
}

}  // namespace cog::runtime::server
