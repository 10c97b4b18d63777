#pragma once
// The server-sent events of one prediction: a bounded replay buffer that late subscribers read
// from the start, and live subscribers follow.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace cog::runtime::server {

class EventStream {
 public:
  // capacity: events kept for replay (0 = no replay); max_subscribers: beyond this, subscribe fails.
  EventStream(std::size_t capacity, std::size_t max_subscribers);

  void publish(const std::string& event, const nlohmann::json& data);
  // No events follow (called after `completed`).
  void close();

  struct Cursor {
    std::uint64_t next = 0;
    std::string pending_error;  // an error event to send before ending the stream
    bool failed = false;        // an error event was sent; the stream ends
  };
  // False when there are too many subscribers already.
  bool subscribe(Cursor& cursor);
  // Returns the number of subscribers left.
  std::size_t unsubscribe();

  enum class Poll { Data, End, Timeout };
  // Waits up to `timeout` for text to send to this subscriber (one or more SSE events).
  Poll poll(Cursor& cursor, std::string& text, std::chrono::milliseconds timeout);

  static std::string format(const std::string& event, const nlohmann::json& data);

 private:
  std::size_t capacity_;
  std::size_t keep_;  // events kept for live subscribers, at least the replay capacity
  std::size_t max_subscribers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> events_;
  std::uint64_t first_ = 0;  // sequence number of events_.front()
  std::uint64_t next_ = 0;   // sequence number of the next event
  bool closed_ = false;
  std::size_t subscribers_ = 0;
};

}  // namespace cog::runtime::server
