#pragma once
// The playground's webhook sink: the Cog server posts each prediction's webhooks here and the
// browser follows them over Server-Sent Events, one stream per prediction id. Events are kept per
// id (the page subscribes before it starts a prediction, but a late subscriber still sees them
// all), within a bound on ids and bytes so a long session cannot grow without limit.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cog::runtime::playground {

struct RelayLimits {
  std::size_t max_ids = 64;                      // the oldest prediction's events go first
  std::size_t max_bytes = 256u * 1024u * 1024u;  // all stored event bodies together
};

class WebhookRelay {
 public:
  explicit WebhookRelay(RelayLimits limits = {});

  // Stores one webhook body (a JSON prediction state, as one line) for `id` and wakes its readers.
  void publish(const std::string& id, std::string event);

  // The events of `id` from index `next` on (from the oldest kept, when those were dropped),
  // waiting up to `timeout` for one to arrive. Empty on timeout or once stop() was called.
  // `next_after`, when given, receives the index to ask for next.
  std::vector<std::string> wait(const std::string& id, std::size_t next, std::chrono::milliseconds timeout,
                                std::size_t* next_after = nullptr);

  // Wakes every waiter for good (the server is shutting down).
  void stop();
  bool stopped() const;

 private:
  void evict_locked();

  RelayLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  struct Stream {
    std::size_t first = 0;           // the index of events.front() among all events of the id
    std::deque<std::string> events;  // those still kept
  };
  std::map<std::string, Stream> events_;
  std::deque<std::string> order_;  // ids, oldest first
  std::size_t bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace cog::runtime::playground
