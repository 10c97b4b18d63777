#include "runtime/server/webhook.hpp"

#include <curl/curl.h>

#include <thread>

namespace cog::runtime::server {

using nlohmann::json;

WebhookChannel::WebhookChannel(WebhookSender& sender, WebhookTarget target)
    : sender_(sender), target_(std::move(target)) {}

void WebhookChannel::post(const std::string& event, const std::function<json()>& payload) {
  if (!target_.events.count(event)) return;
  const bool terminal = event == "completed";
  std::lock_guard lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  // Output events and the terminal one always go out; others at most once per interval.
  if (!terminal && event != "output" && sent_any_ &&
      now - last_sent_ < std::chrono::duration<double>(sender_.settings().throttle_interval_s)) {
    return;
  }
  sent_any_ = true;
  last_sent_ = now;
  queue_.push_back({event, payload().dump(-1, ' ', false, json::error_handler_t::replace)});
  if (terminal) finished_ = true;
  if (!running_) {
    running_ = true;
    sender_.channel_started();
    std::thread([self = shared_from_this()] { self->run(); }).detach();
  }
  cv_.notify_one();
}

void WebhookChannel::run() {
  while (true) {
    Item item;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !queue_.empty(); });
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool terminal = item.event == "completed";
    sender_.deliver(target_, item.body, terminal);
    if (terminal) break;
  }
  sender_.channel_finished();
}

WebhookSender::WebhookSender(WebhookSettings settings, Logger& logger)
    : settings_(std::move(settings)), logger_(logger) {}

std::shared_ptr<WebhookChannel> WebhookSender::open(WebhookTarget target) {
  return std::make_shared<WebhookChannel>(*this, std::move(target));
}

void WebhookSender::channel_started() {
  std::lock_guard lock(mutex_);
  ++active_channels_;
}

void WebhookSender::channel_finished() {
  std::lock_guard lock(mutex_);
  --active_channels_;
  idle_cv_.notify_all();
}

void WebhookSender::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  idle_cv_.wait_for(lock, limit, [&] { return active_channels_ == 0; });
}

namespace {

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

bool retryable(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace

bool WebhookSender::deliver(const WebhookTarget& target, const std::string& body, bool terminal) {
  const int attempts = terminal ? settings_.terminal_attempts : 1;
  double backoff = settings_.retry_base_s;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    CURL* curl = curl_easy_init();
    if (!curl) return false;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (!settings_.auth_token.empty()) {
      headers = curl_slist_append(headers, ("Authorization: Bearer " + settings_.auth_token).c_str());
    }
    if (!target.traceparent.empty()) {
      headers = curl_slist_append(headers, ("traceparent: " + target.traceparent).c_str());
    }
    if (!target.tracestate.empty()) {
      headers = curl_slist_append(headers, ("tracestate: " + target.tracestate).c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, target.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, settings_.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (code == CURLE_OK && !retryable(status)) return true;
    if (!terminal) return false;  // fire and forget
    logger_.warn("webhook delivery to " + target.url + " failed (" +
                 (code == CURLE_OK ? "HTTP " + std::to_string(status) : curl_easy_strerror(code)) + "), attempt " +
                 std::to_string(attempt + 1) + " of " + std::to_string(attempts));
    if (attempt + 1 < attempts) {
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
      backoff *= 2;
    }
  }
  return false;
}

}  // namespace cog::runtime::server
