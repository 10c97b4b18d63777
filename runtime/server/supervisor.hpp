#pragma once
// The prediction state machine between the HTTP layer and the worker: health, slots, in-flight
// predictions, and the events (SSE, webhooks) each change produces. Holds no Python.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/server/input_validation.hpp"
#include "runtime/server/logger.hpp"
#include "runtime/server/options.hpp"
#include "runtime/server/prediction.hpp"
#include "runtime/server/webhook.hpp"
#include "runtime/server/worker_process.hpp"

namespace cog::runtime::server {

enum class Health { Unknown, Starting, Ready, SetupFailed, Defunct };

struct CreateRequest {
  std::string id;  // "" = generate one
  bool training = false;
  bool from_put = false;
  bool want_stream = false;  // Accept: text/event-stream
  nlohmann::json input = nlohmann::json::object();
  nlohmann::json context = nlohmann::json::object();
  std::optional<WebhookTarget> webhook;
};

struct CreateResult {
  int error_status = 0;  // non-zero: respond with this status and `error_body`
  nlohmann::json error_body;
  std::shared_ptr<Prediction> prediction;
  bool existing = false;  // a PUT found this id already in flight
};

class Supervisor {
 public:
  Supervisor(const ServerOptions& options, Logger& logger, WebhookSender& webhooks);
  ~Supervisor();

  // Spawns the worker; setup runs in the background.
  void start();

  nlohmann::json health();  // the /health-check body (may run the user check)
  std::optional<std::string> openapi() const;
  bool streaming() const;

  CreateResult create(CreateRequest request);
  // Blocks until `prediction` is terminal.
  void wait(const std::shared_ptr<Prediction>& prediction);
  // Blocks until `prediction` is terminal or `timeout` passes; true when terminal.
  bool wait_for(const std::shared_ptr<Prediction>& prediction, std::chrono::milliseconds timeout);
  // The JSON body of `prediction` now (full object).
  nlohmann::json body(const std::shared_ptr<Prediction>& prediction) const;
  // Reads `prediction` under the lock.
  template <typename Fn>
  auto with(const std::shared_ptr<Prediction>& prediction, Fn fn) const {
    std::lock_guard lock(mutex_);
    return fn(*prediction);
  }
  // False when no prediction with this id is in flight.
  bool cancel(const std::string& id);
  // The same, logged with why the server itself cancels it (e.g. its client disconnected).
  bool cancel(const std::string& id, const std::string& reason);

  // Stops taking predictions, lets in-flight ones finish, stops the worker.
  void shutdown();

 private:
  void on_frame(const nlohmann::json& frame);
  void on_worker_exit(const std::string& how);
  void on_schema(const std::string& text);
  void on_ready(const nlohmann::json& frame);
  void on_setup_failed(const std::string& error);
  void append_log(Prediction& prediction, const std::string& source, const std::string& data);
  void finish(Prediction& prediction, const std::string& status, const std::string& error);
  void watch_setup_timeout();
  std::shared_ptr<Prediction> find(const std::string& id) const;

  const ServerOptions& options_;
  Logger& logger_;
  WebhookSender& webhooks_;
  std::unique_ptr<WorkerProcess> worker_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  Health state_ = Health::Unknown;
  bool shutting_down_ = false;
  std::string setup_started_at_;
  std::string setup_completed_at_;
  std::string setup_logs_;
  std::optional<std::string> schema_text_;
  std::unique_ptr<InputValidator> input_validator_;
  std::unique_ptr<InputValidator> training_validator_;
  int slots_ = 1;
  bool streaming_ = false;
  bool has_healthcheck_ = false;
  std::string python_version_;
  std::string sdk_version_;
  std::map<std::string, std::shared_ptr<Prediction>> inflight_;
  unsigned long long id_sequence_ = 0;

  // The user healthcheck: one request to the worker at a time, shared by concurrent callers.
  long long health_seq_ = 0;
  long long health_answered_seq_ = 0;
  bool health_in_flight_ = false;
  std::chrono::steady_clock::time_point health_sent_at_;
  bool last_healthy_ = true;
  std::string last_health_message_;
  std::thread setup_timer_;
};

const char* health_name(Health health);

}  // namespace cog::runtime::server
