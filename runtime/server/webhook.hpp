#pragma once
// Webhook delivery: each prediction with a webhook gets a channel whose events go out in order on
// their own thread (libcurl), so a slow receiver never blocks a request or another prediction.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/server/logger.hpp"

namespace cog::runtime::server {

struct WebhookSettings {
  std::string auth_token;  // WEBHOOK_AUTH_TOKEN → Authorization: Bearer …
  double throttle_interval_s = 0.5;
  std::string user_agent;
  int terminal_attempts = 12;  // retries of the `completed` event
  double retry_base_s = 0.1;   // doubled after each failed attempt
};

struct WebhookTarget {
  std::string url;
  std::set<std::string> events = {"start", "output", "logs", "completed"};
  std::string traceparent;
  std::string tracestate;
};

class WebhookSender;

class WebhookChannel : public std::enable_shared_from_this<WebhookChannel> {
 public:
  WebhookChannel(WebhookSender& sender, WebhookTarget target);
  // Queues the payload for `event` (start | output | logs | completed), subject to the events
  // filter and throttling; `payload` is only called when the event will be sent. Call with the
  // prediction's state already updated.
  void post(const std::string& event, const std::function<nlohmann::json()>& payload);

 private:
  friend class WebhookSender;
  void run();
  struct Item {
    std::string event;
    std::string body;
  };
  WebhookSender& sender_;
  WebhookTarget target_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool running_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_sent_{};
  bool sent_any_ = false;
};

class WebhookSender {
 public:
  WebhookSender(WebhookSettings settings, Logger& logger);
  std::shared_ptr<WebhookChannel> open(WebhookTarget target);
  // Blocks until every channel has delivered its terminal event, or `limit` passes.
  void wait_idle(std::chrono::milliseconds limit);
  const WebhookSettings& settings() const { return settings_; }

 private:
  friend class WebhookChannel;
  // One POST; true when the receiver answered with a status that needs no retry.
  bool deliver(const WebhookTarget& target, const std::string& body, bool terminal);
  void channel_started();
  void channel_finished();

  WebhookSettings settings_;
  Logger& logger_;
  std::mutex mutex_;
  std::condition_variable idle_cv_;
  int active_channels_ = 0;
};

}  // namespace cog::runtime::server
