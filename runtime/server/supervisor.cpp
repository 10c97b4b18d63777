// One file of about 500 lines: the prediction state machine is changed from two sides, the
// worker's frames and the HTTP requests, under one mutex; both halves are kept together so that
// every state change can be read in one place.
#include "runtime/server/supervisor.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/server/event_stream.hpp"

namespace cog::runtime::server {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxStreamSubscribers = 16;
constexpr auto kUserHealthcheckTimeout = 5s;
constexpr auto kCancelGrace = 5s;  // for canceled predictions to end at shutdown

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

const char* health_name(Health health) {
  switch (health) {
    case Health::Unknown:
      return "UNKNOWN";
    case Health::Starting:
      return "STARTING";
    case Health::Ready:
      return "READY";
    case Health::SetupFailed:
      return "SETUP_FAILED";
    case Health::Defunct:
      return "DEFUNCT";
  }
  return "UNKNOWN";
}

Supervisor::Supervisor(const ServerOptions& options, Logger& logger, WebhookSender& webhooks)
    : options_(options), logger_(logger), webhooks_(webhooks) {}

Supervisor::~Supervisor() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    cv_.notify_all();
  }
  if (setup_timer_.joinable()) setup_timer_.join();
  worker_.reset();
}

void Supervisor::start() {
  // A schema baked at build time wins over the one the worker generates.
  if (auto baked = read_file(std::filesystem::path(options_.project_dir) / ".cog" / "openapi_schema.json")) {
    on_schema(*baked);
  }
  {
    std::lock_guard lock(mutex_);
    state_ = Health::Starting;
    setup_started_at_ = rfc3339_now();
    setup_logs_ += "Spawning worker subprocess\n";
  }
  WorkerLaunch launch{options_.worker_bin,  options_.runner_ref, options_.mode,
                      options_.project_dir, options_.upload_url, options_.sdk_dir};
  worker_ = std::make_unique<WorkerProcess>(
      launch, [this](const json& frame) { on_frame(frame); }, [this](const std::string& how) { on_worker_exit(how); });
  try {
    worker_->start();
  } catch (const std::exception& error) {
    on_setup_failed(error.what());
    return;
  }
  logger_.info("worker started (pid " + std::to_string(worker_->pid()) + ")");
  if (options_.setup_timeout_s > 0) setup_timer_ = std::thread([this] { watch_setup_timeout(); });
}

void Supervisor::watch_setup_timeout() {
  std::unique_lock lock(mutex_);
  const auto limit = std::chrono::duration<double>(options_.setup_timeout_s);
  if (cv_.wait_for(lock, limit, [&] { return state_ != Health::Starting || shutting_down_; })) return;
  setup_logs_ += "Setup timed out after " + std::to_string(options_.setup_timeout_s) + " seconds\n";
  state_ = Health::SetupFailed;
  setup_completed_at_ = rfc3339_now();
  lock.unlock();
  logger_.error("setup timed out; stopping the worker");
  worker_->kill_now();
}

// ---- worker frames ---------------------------------------------------------------------------

void Supervisor::on_frame(const json& frame) {
  const std::string type = frame.value("type", "");
  if (type == "schema") {
    if (frame.contains("schema") && frame["schema"].is_string()) {
      std::lock_guard lock(mutex_);
      if (schema_text_) return;  // the baked schema wins
    }
    on_schema(frame.value("schema", ""));
    return;
  }
  if (type == "ready") return on_ready(frame);
  if (type == "hello") {
    std::lock_guard lock(mutex_);
    python_version_ = frame.value("python", "");
    sdk_version_ = frame.value("sdk", "");
    return;
  }
  if (type == "setup_failed") return on_setup_failed(frame.value("error", "setup failed"));

  std::unique_lock lock(mutex_);
  if (type == "healthcheck_result") {
    const long long seq = frame.value("seq", 0LL);
    if (seq == health_seq_) {
      health_answered_seq_ = seq;
      health_in_flight_ = false;
      last_healthy_ = frame.value("healthy", true);
      last_health_message_ = frame.value("message", "");
      cv_.notify_all();
    }
    return;
  }
  const json& id_value = frame.contains("id") ? frame["id"] : json();
  if (type == "log" && !id_value.is_string()) {
    const std::string data = frame.value("data", "");
    // Setup output is kept for GET /health-check's setup.logs and, like a prediction's, shown on
    // the server's stderr as it comes (cog run / train / serve show it, as Cog's container logs do).
    // The worker's own trace line (driver.py, as Cog's setup logs have it) is not the model's.
    if (state_ == Health::Starting || state_ == Health::Unknown) setup_logs_ += data;
    lock.unlock();
    if (data != "File descriptor redirection complete\n") logger_.passthrough(data);
    return;
  }
  if (!id_value.is_string()) return;
  const auto found = inflight_.find(id_value.get<std::string>());
  if (found == inflight_.end()) return;
  const std::shared_ptr<Prediction> holder = found->second;  // finish() drops the map's reference
  Prediction& p = *holder;

  if (type == "log") {
    append_log(p, frame.value("source", "stdout"), frame.value("data", ""));
  } else if (type == "started") {
    p.status = "processing";
    p.started_at = rfc3339_now();
    if (p.stream) p.stream->publish("start", {{"id", p.id}, {"status", "processing"}});
    if (p.webhook) p.webhook->post("start", [&] { return prediction_body(p); });
  } else if (type == "output") {
    const json& item = frame.contains("item") ? frame["item"] : json();
    if (!p.output.is_array()) p.output = json::array();
    p.output.push_back(item);
    p.has_output = true;
    if (p.stream) p.stream->publish("output", {{"chunk", item}, {"index", p.output_items}});
    ++p.output_items;
    if (p.webhook) p.webhook->post("output", [&] { return prediction_body(p); });
  } else if (type == "metric") {
    const std::string name = frame.value("name", "");
    const std::string mode = frame.value("mode", "replace");
    const json& value = frame.contains("value") ? frame["value"] : json();
    merge_metric(p.metrics, name, value, mode);
    if (p.stream) {
      p.stream->publish("metric", {{"name", name}, {"value", value}, {"mode", mode == "incr" ? "increment" : mode}});
    }
  } else if (type == "done") {
    // The SDK's merged metrics are the record; the live merge above only fed events.
    if (frame.contains("metrics") && frame["metrics"].is_object()) p.metrics = frame["metrics"];
    if (frame.contains("output")) {
      p.output = frame["output"];
      p.has_output = true;
      // A returned (not yielded) output is an `output` event of its own, as Cog sends it.
      if (p.webhook && p.output_items == 0 && frame.value("status", "") == "succeeded") {
        p.webhook->post("output", [&] { return prediction_body(p); });
      }
    }
    if (frame.contains("predict_time")) p.metrics["predict_time"] = frame["predict_time"];
    finish(p, frame.value("status", "failed"), frame.value("error", ""));
  } else if (type == "invalid") {
    p.invalid_detail = json{{"detail", frame.value("detail", json::array())}};
    std::string message;
    for (const auto& entry : (*p.invalid_detail)["detail"]) {
      if (!message.empty()) message += "; ";
      const json loc = entry.value("loc", json::array());
      if (!loc.empty()) message += loc.back().dump() + ": ";
      message += entry.value("msg", "invalid input");
    }
    finish(p, "failed", message);
  } else if (type == "rejected") {
    p.rejected = true;
    finish(p, "failed", frame.value("error", "invalid input"));
  }
}

void Supervisor::append_log(Prediction& p, const std::string& source, const std::string& data) {
  if (data.empty()) return;
  p.logs += data;
  if (p.stream) p.stream->publish("log", {{"source", source}, {"data", data}});
  if (p.webhook) p.webhook->post("logs", [&] { return prediction_body(p); });
}

// Called with mutex_ held.
void Supervisor::finish(Prediction& p, const std::string& status, const std::string& error) {
  if (p.terminal()) return;
  p.status = status;
  if (status == "failed") p.error = error;
  p.completed_at = rfc3339_now();
  if (!p.metrics.contains("predict_time")) p.metrics["predict_time"] = 0.0;
  if (p.stream || p.webhook) {  // most sync requests have neither: the body is built by the caller
    const json body = prediction_body(p);
    if (p.stream) {
      p.stream->publish("completed", body);
      p.stream->close();
    }
    if (p.webhook) p.webhook->post("completed", [&] { return body; });
  }
  p.ended.notify_all();
  inflight_.erase(p.id);
  if (shutting_down_) cv_.notify_all();  // shutdown() waits for inflight_ to empty
}

void Supervisor::on_schema(const std::string& text) {
  json document = json::parse(text, nullptr, false);
  auto input = document.is_object() ? InputValidator::from_openapi(document, "Input") : nullptr;
  auto training = document.is_object() ? InputValidator::from_openapi(document, "TrainingInput") : nullptr;
  if (document.is_discarded()) logger_.warn("the runner's OpenAPI schema is not valid JSON");
  std::lock_guard lock(mutex_);
  schema_text_ = text;
  input_validator_ = std::move(input);
  training_validator_ = std::move(training);
}

void Supervisor::on_ready(const json& frame) {
  std::unique_lock lock(mutex_);
  if (state_ != Health::Starting) return;  // e.g. the setup timeout fired first
  const bool is_async = frame.value("is_async", false);
  int slots = options_.max_concurrency > 0 ? options_.max_concurrency : frame.value("max_concurrency", 1);
  if (slots < 1) slots = 1;
  if (!is_async && slots > 1) {
    logger_.warn("COG_MAX_CONCURRENCY=" + std::to_string(slots) +
                 " needs an async run(); serving one prediction at a time");
    slots = 1;
  }
  slots_ = slots;
  streaming_ = frame.value("streaming", false);
  has_healthcheck_ = frame.value("healthcheck", false);
  python_version_ = frame.value("python", "");
  sdk_version_ = frame.value("sdk", "");
  state_ = Health::Ready;
  setup_completed_at_ = rfc3339_now();
  setup_logs_ += "Server ready\n";
  cv_.notify_all();
  lock.unlock();
  logger_.info("setup succeeded; serving " + std::to_string(slots) + " slot(s)");
  if (options_.kubernetes) {
    std::error_code ignored;
    std::filesystem::create_directories("/var/run/cog", ignored);
    std::ofstream("/var/run/cog/ready").close();
  }
}

void Supervisor::on_setup_failed(const std::string& error) {
  {
    std::lock_guard lock(mutex_);
    if (state_ != Health::Starting) return;
    state_ = Health::SetupFailed;
    setup_completed_at_ = rfc3339_now();
    cv_.notify_all();
  }
  logger_.error("setup failed: " + error);
}

void Supervisor::on_worker_exit(const std::string& how) {
  std::unique_lock lock(mutex_);
  if (state_ == Health::Starting) {
    setup_logs_ += "Worker process " + how + " during setup\n";
    state_ = Health::SetupFailed;
    setup_completed_at_ = rfc3339_now();
  } else if (state_ == Health::Ready && !shutting_down_) {
    state_ = Health::Defunct;
  }
  const std::string error = "Prediction failed: the worker process " + how;
  std::vector<std::shared_ptr<Prediction>> running;
  for (auto& [id, prediction] : inflight_) running.push_back(prediction);
  for (auto& prediction : running) finish(*prediction, "failed", error);
  cv_.notify_all();
  lock.unlock();
  if (!shutting_down_) logger_.error("worker process " + how);
}

// ---- requests --------------------------------------------------------------------------------

std::optional<std::string> Supervisor::openapi() const {
  std::lock_guard lock(mutex_);
  return schema_text_;
}

bool Supervisor::streaming() const {
  std::lock_guard lock(mutex_);
  return streaming_;
}

json Supervisor::health() {
  std::unique_lock lock(mutex_);
  std::string status = health_name(state_);
  json body = {{"status", status}};
  if (state_ == Health::Ready && static_cast<int>(inflight_.size()) >= slots_) body["status"] = "BUSY";
  if (!setup_started_at_.empty()) {
    json setup = {{"started_at", setup_started_at_}};
    if (!setup_completed_at_.empty()) setup["completed_at"] = setup_completed_at_;
    setup["status"] = state_ == Health::Starting ? "starting" : state_ == Health::SetupFailed ? "failed" : "succeeded";
    if (!setup_logs_.empty()) setup["logs"] = setup_logs_;
    body["setup"] = setup;
  }
  json version = {{"coglet", COG_VERSION}};
  if (!python_version_.empty()) version["python"] = python_version_;
  if (!sdk_version_.empty()) version["python_sdk"] = sdk_version_;
  body["version"] = version;

  if (state_ == Health::Ready && has_healthcheck_) {
    if (!health_in_flight_) {
      health_in_flight_ = true;
      health_seq_ += 1;
      health_sent_at_ = std::chrono::steady_clock::now();
      const long long seq = health_seq_;
      lock.unlock();
      worker_->send(json{{"type", "healthcheck"}, {"seq", seq}});
      lock.lock();
    }
    const long long waiting_for = health_seq_;
    const auto deadline = health_sent_at_ + kUserHealthcheckTimeout;
    const bool answered =
        cv_.wait_until(lock, deadline, [&] { return health_answered_seq_ >= waiting_for || state_ != Health::Ready; });
    if (!answered) {
      health_in_flight_ = false;  // the next request asks again
      body["status"] = "UNHEALTHY";
      body["user_healthcheck_error"] = "Healthcheck failed: user-defined healthcheck timed out after 5.0 seconds";
    } else if (!last_healthy_ && state_ == Health::Ready) {
      body["status"] = "UNHEALTHY";
      body["user_healthcheck_error"] = last_health_message_.empty()
                                           ? "Healthcheck failed: user-defined healthcheck returned False"
                                           : last_health_message_;
    }
  }
  return body;
}

CreateResult Supervisor::create(CreateRequest request) {
  CreateResult result;
  std::unique_lock lock(mutex_);
  if (shutting_down_) {
    result.error_status = 503;
    result.error_body = {{"error", "Server is shutting down"}, {"status", "failed"}};
    return result;
  }
  if (state_ == Health::Defunct) {
    result.error_status = 503;
    result.error_body = {
        {"error",
         "The model's worker process has died (health-check: DEFUNCT); restart the server to run predictions again."},
        {"status", "failed"}};
    return result;
  }
  if (state_ != Health::Ready) {
    result.error_status = 503;
    result.error_body = {{"error",
                          "Setup has not finished yet. Wait until it has finished, or GET "
                          "/health-check for status."},
                         {"status", "failed"}};
    return result;
  }
  if (!request.id.empty()) {
    if (auto existing = inflight_.find(request.id); existing != inflight_.end()) {
      result.prediction = existing->second;
      result.existing = true;
      return result;
    }
  }
  if (request.want_stream && !streaming_) {
    result.error_status = 406;
    result.error_body = {{"error",
                          "This model does not support streaming responses. Add "
                          "@cog.streaming to predict() to enable SSE."}};
    return result;
  }
  const InputValidator* validator = request.training ? training_validator_.get() : input_validator_.get();
  // Without a training schema, a predict-mode server runs /trainings against the predictor (as Cog).
  if (request.training && !validator && options_.mode != "train") validator = input_validator_.get();
  if (validator) {
    if (auto invalid = validator->check(request.input)) {
      result.error_status = 422;
      result.error_body = std::move(*invalid);
      return result;
    }
  }
  if (!request.input.is_object()) {
    result.error_status = 422;
    result.error_body = {
        {"detail",
         {{{"loc", {"body", "input"}}, {"msg", "Input should be a valid dictionary"}, {"type", "value_error"}}}}};
    return result;
  }
  if (static_cast<int>(inflight_.size()) >= slots_) {
    result.error_status = 409;
    result.error_body = {{"error", "At capacity - all prediction slots busy"}, {"status", "failed"}};
    return result;
  }
  auto prediction = std::make_shared<Prediction>();
  prediction->id = request.id.empty() ? generate_prediction_id(++id_sequence_) : request.id;
  prediction->training = request.training;
  prediction->input = request.input;
  prediction->context = request.context;
  prediction->created_at = rfc3339_now();
  if (streaming_) {
    prediction->stream = std::make_shared<EventStream>(options_.stream_history_capacity, kMaxStreamSubscribers);
  }
  if (request.webhook) prediction->webhook = webhooks_.open(*request.webhook);
  inflight_[prediction->id] = prediction;
  json frame = {
      {"type", "predict"}, {"id", prediction->id}, {"input", prediction->input}, {"context", prediction->context}};
  lock.unlock();
  // Frames to the worker keep their order: this thread is the only writer for this prediction
  // until it is in the worker's queue.
  if (!worker_->send(frame)) {
    lock.lock();
    finish(*prediction, "failed", "Prediction failed: the worker process is not running");
    lock.unlock();
  }
  result.prediction = prediction;
  return result;
}

void Supervisor::wait(const std::shared_ptr<Prediction>& prediction) {
  std::unique_lock lock(mutex_);
  prediction->ended.wait(lock, [&] { return prediction->terminal(); });
}

bool Supervisor::wait_for(const std::shared_ptr<Prediction>& prediction, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return prediction->ended.wait_for(lock, timeout, [&] { return prediction->terminal(); });
}

json Supervisor::body(const std::shared_ptr<Prediction>& prediction) const {
  std::lock_guard lock(mutex_);
  return prediction_body(*prediction);
}

std::shared_ptr<Prediction> Supervisor::find(const std::string& id) const {
  auto found = inflight_.find(id);
  return found == inflight_.end() ? nullptr : found->second;
}

bool Supervisor::cancel(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    if (!find(id)) return false;
  }
  worker_->send(json{{"type", "cancel"}, {"id", id}});
  return true;
}

bool Supervisor::cancel(const std::string& id, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (!find(id)) return false;
  }
  logger_.info("canceling prediction " + id + ": " + reason);
  return cancel(id);
}

void Supervisor::shutdown() {
  {
    std::unique_lock lock(mutex_);
    shutting_down_ = true;
    cv_.notify_all();
    // In-flight predictions may finish within the grace period; then they are canceled, and a
    // worker that does not end them either is killed (which fails them): shutdown always ends.
    const auto grace = std::chrono::duration<double>(options_.shutdown_grace_s);
    if (!cv_.wait_for(lock, grace, [&] { return inflight_.empty(); })) {
      std::vector<std::string> running;
      for (const auto& [id, prediction] : inflight_) running.push_back(id);
      lock.unlock();
      logger_.warn(std::to_string(running.size()) +
                   " prediction(s) still running after the shutdown grace period; canceling them");
      for (const auto& id : running) worker_->send(json{{"type", "cancel"}, {"id", id}});
      lock.lock();
      if (!cv_.wait_for(lock, kCancelGrace, [&] { return inflight_.empty(); })) {
        lock.unlock();
        logger_.error("the worker did not end canceled predictions; killing it");
        if (worker_) worker_->kill_now();
        lock.lock();
        cv_.wait_for(lock, kCancelGrace, [&] { return inflight_.empty(); });
      }
    }
  }
  if (worker_) worker_->stop(5s);
}

}  // namespace cog::runtime::server
