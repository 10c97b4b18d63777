#pragma once
// One prediction (or training) as the supervisor tracks it, and the JSON views of it that the
// HTTP responses, webhooks and SSE events carry.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace cog::runtime::server {

class EventStream;
class WebhookChannel;

struct Prediction {
  std::string id;
  bool training = false;
  nlohmann::json input = nlohmann::json::object();
  nlohmann::json context = nlohmann::json::object();

  std::string status = "starting";  // starting | processing | succeeded | failed | canceled
  nlohmann::json output;            // null until the worker produces one
  bool has_output = false;
  std::size_t output_items = 0;  // streamed items so far (SSE index)
  std::string logs;
  std::string error;
  nlohmann::json metrics = nlohmann::json::object();
  std::string created_at;
  std::string started_at;
  std::string completed_at;

  // Set when the worker refused the input: the 422 body of a sync request.
  std::optional<nlohmann::json> invalid_detail;
  bool rejected = false;  // the worker could not prepare the input (e.g. a bad file URL)

  std::shared_ptr<EventStream> stream;      // SSE subscribers, when the runner streams
  std::shared_ptr<WebhookChannel> webhook;  // when the request named a webhook

  // Notified (under the supervisor's lock) when the prediction ends. One per prediction, so that
  // the end of one wakes only its own waiting request, not every request in flight.
  std::condition_variable ended;

  bool terminal() const { return status == "succeeded" || status == "failed" || status == "canceled"; }
};

// The full prediction object (Cog's classic superset): id, input, output, logs, error, status,
// metrics and timestamps; unset fields left out.
nlohmann::json prediction_body(const Prediction& prediction);

// Merges one user metric into `metrics` (dot paths become nested objects). Modes: replace (null
// deletes), increment/incr (numeric add), append (list).
void merge_metric(nlohmann::json& metrics, const std::string& name, const nlohmann::json& value,
                  const std::string& mode);

// `pred_<hex nanoseconds><hex sequence>`, as Cog generates when a request has no id; the caller's
// sequence number keeps ids created in the same nanosecond apart.
std::string generate_prediction_id(unsigned long long sequence);

}  // namespace cog::runtime::server
