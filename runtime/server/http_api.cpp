#include "runtime/server/http_api.hpp"

#include <memory>
#include <tuple>
#include <vector>

#include "runtime/server/client_connection.hpp"
#include "runtime/server/event_stream.hpp"

namespace cog::runtime::server {

using nlohmann::json;

namespace {

constexpr auto kKeepAliveInterval = std::chrono::seconds(15);
constexpr auto kDisconnectPollInterval = std::chrono::milliseconds(100);

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

json detail(json loc, const std::string& msg, const std::string& type) {
  return json{{"detail", json::array({{{"loc", std::move(loc)}, {"msg", msg}, {"type", type}}})}};
}

bool header_contains(const httplib::Request& req, const char* name, const char* needle) {
  return req.has_header(name) && req.get_header_value(name).find(needle) != std::string::npos;
}

// Builds a CreateRequest from the body and headers; false (with `res` filled) when malformed.
bool parse_request(const httplib::Request& req, httplib::Response& res, bool training, const std::string& path_id,
                   const HttpLimits& limits, CreateRequest& out) {
  const char* noun = training ? "training" : "prediction";
  if (!path_id.empty()) {
    if (const auto problem = prediction_id_problem(path_id)) {
      send_json(
          res, 422,
          detail({"path", std::string(noun) + "_id"},
                 std::string(noun) + " ID " + *problem + ": use 1-256 bytes of UTF-8 text without control characters",
                 "value_error"));
      return false;
    }
  }
  json body = json::object();
  // Deep nesting is refused before parsing: the parser would cope, but every recursive walk
  // after it (validation, the 422 message, the worker's decoder) would not.
  if (json_nesting_depth(req.body, limits.max_json_depth) > limits.max_json_depth) {
    send_json(
        res, 400,
        detail({"body"},
               "Invalid JSON in request body: nested deeper than " + std::to_string(limits.max_json_depth) + " levels",
               "value_error.jsondecode"));
    return false;
  }
  if (!req.body.empty()) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {  // 400, as Cog (a body that is not JSON is not a validation error)
      send_json(res, 400, detail({"body"}, "Invalid JSON in request body", "value_error.jsondecode"));
      return false;
    }
  }
  if (body.is_null()) body = json::object();
  if (!body.is_object()) {
    send_json(res, 422, detail({"body"}, "Input should be a valid dictionary", "value_error"));
    return false;
  }
  out.training = training;
  out.from_put = !path_id.empty();
  out.id = path_id;
  // Cog's request types: `id` a string, `context` a map of strings.
  if (body.contains("id") && !body["id"].is_null() && !body["id"].is_string()) {
    send_json(res, 422, detail({"body", "id"}, "Input should be a valid string", "value_error"));
    return false;
  }
  if (body.contains("context") && !body["context"].is_null()) {
    const json& context = body["context"];
    if (!context.is_object()) {
      send_json(res, 422, detail({"body", "context"}, "Input should be a valid dictionary", "value_error"));
      return false;
    }
    for (const auto& [key, value] : context.items()) {
      if (!value.is_string()) {
        send_json(res, 422, detail({"body", "context", key}, "Input should be a valid string", "value_error"));
        return false;
      }
    }
  }
  if (body.contains("id") && !body["id"].is_null()) {
    const std::string body_id = body["id"].get<std::string>();
    if (!path_id.empty() && body_id != path_id) {
      send_json(res, 422,
                detail({"body", "id"},
                       std::string(training ? "training" : "prediction") + " ID must match the ID supplied in the URL",
                       "value_error"));
      return false;
    }
    if (const auto problem = prediction_id_problem(body_id)) {
      send_json(
          res, 422,
          detail({"body", "id"},
                 std::string(noun) + " ID " + *problem + ": use 1-256 bytes of UTF-8 text without control characters",
                 "value_error"));
      return false;
    }
    out.id = body_id;
  }
  if (body.contains("input") && !body["input"].is_null()) out.input = body["input"];
  if (body.contains("context") && body["context"].is_object()) out.context = body["context"];
  if (body.contains("webhook") && !body["webhook"].is_null() && !body["webhook"].is_string()) {
    send_json(res, 422, detail({"body", "webhook"}, "URL input should be a string", "value_error"));
    return false;
  }
  if (body.contains("webhook_events_filter") && !body["webhook_events_filter"].is_null() &&
      !body["webhook_events_filter"].is_array()) {
    send_json(res, 422, detail({"body", "webhook_events_filter"}, "Input should be a valid list", "value_error"));
    return false;
  }
  if (body.contains("webhook") && body["webhook"].is_string() && !body["webhook"].get<std::string>().empty()) {
    WebhookTarget target;
    target.url = body["webhook"];
    if (!target.url.starts_with("http://") && !target.url.starts_with("https://")) {
      send_json(res, 422, detail({"body", "webhook"}, "URL scheme should be 'http' or 'https'", "value_error"));
      return false;
    }
    if (body.contains("webhook_events_filter") && body["webhook_events_filter"].is_array()) {
      target.events.clear();
      for (const auto& event : body["webhook_events_filter"]) {
        const std::string name = event.is_string() ? event.get<std::string>() : "";
        if (name != "start" && name != "output" && name != "logs" && name != "completed") {
          send_json(res, 422,
                    detail({"body", "webhook_events_filter"},
                           "Input should be 'start', 'output', 'logs' or 'completed'", "value_error"));
          return false;
        }
        target.events.insert(name);
      }
    }
    target.traceparent = req.get_header_value("traceparent");
    target.tracestate = req.get_header_value("tracestate");
    out.webhook = std::move(target);
  }
  out.want_stream = header_contains(req, "Accept", "text/event-stream");
  return true;
}

void stream_events(httplib::Response& res, Supervisor& supervisor, std::shared_ptr<Prediction> prediction) {
  auto stream = prediction->stream;
  auto cursor = std::make_shared<EventStream::Cursor>();
  if (!stream || !stream->subscribe(*cursor)) {
    send_json(res, 429, {{"error", "Too many stream subscribers"}});
    return;
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream, cursor](size_t, httplib::DataSink& sink) {
        std::string text;
        switch (stream->poll(*cursor, text, kKeepAliveInterval)) {
          case EventStream::Poll::Data:
            return sink.write(text.data(), text.size());
          case EventStream::Poll::Timeout: {
            const std::string comment = ": keep-alive\n\n";
            return sink.write(comment.data(), comment.size());
          }
          case EventStream::Poll::End:
            sink.done();
            return true;
        }
        return false;
      },
      [stream, prediction, &supervisor](bool) {
        // A prediction nobody listens to any more is canceled.
        if (stream->unsubscribe() == 0 &&
            !supervisor.with(prediction, [](const Prediction& p) { return p.terminal(); })) {
          supervisor.cancel(prediction->id);
        }
      });
}

// Waits for a sync prediction; cancels it when its client disconnects first, as Cog does (a sync
// prediction created without an id has no other way to be canceled).
void wait_unless_client_leaves(const httplib::Request& req, Supervisor& supervisor,
                               const std::shared_ptr<Prediction>& prediction) {
  // Most predictions end within the first interval: only the longer ones look for their socket.
  if (supervisor.wait_for(prediction, kDisconnectPollInterval)) return;
  const ClientConnection client(req);
  bool canceled = !client.found();
  while (!supervisor.wait_for(prediction, kDisconnectPollInterval)) {
    if (!canceled && client.gone()) {
      canceled = true;
      supervisor.cancel(prediction->id, "the client disconnected");
    }
  }
}

void handle_create(const httplib::Request& req, httplib::Response& res, Supervisor& supervisor,
                   const HttpLimits& limits, bool training, const std::string& path_id) {
  CreateRequest request;
  if (!parse_request(req, res, training, path_id, limits, request)) return;
  if (training && request.want_stream) {
    send_json(res, 406, {{"error", "Training endpoints do not support streaming responses."}});
    return;
  }
  const bool want_stream = request.want_stream;
  const bool respond_async = header_contains(req, "Prefer", "respond-async");
  CreateResult result = supervisor.create(std::move(request));
  if (result.error_status != 0) {
    send_json(res, result.error_status, result.error_body);
    return;
  }
  auto prediction = result.prediction;
  if (want_stream) return stream_events(res, supervisor, prediction);
  if (result.existing) {
    send_json(res, 202, supervisor.body(prediction));
    return;
  }
  if (respond_async) {
    send_json(res, 202, {{"id", prediction->id}, {"status", "starting"}});
    return;
  }
  wait_unless_client_leaves(req, supervisor, prediction);
  const auto [invalid, rejected, body] = supervisor.with(prediction, [](const Prediction& p) {
    return std::make_tuple(p.invalid_detail, p.rejected, prediction_body(p));
  });
  if (invalid) return send_json(res, 422, *invalid);
  if (rejected) {
    return send_json(res, 422,
                     {{"id", body["id"]},
                      {"error", body.value("error", "")},
                      {"logs", ""},
                      {"status", "failed"},
                      {"metrics", body["metrics"]}});
  }
  send_json(res, 200, body);
}

json discovery_document(bool training) {
  json doc = {{"cog_version", COG_COMPAT_VERSION},
              {"docs_url", "/docs"},
              {"openapi_url", "/openapi.json"},
              {"shutdown_url", "/shutdown"},
              {"healthcheck_url", "/health-check"},
              {"predictions_url", "/predictions"},
              {"predictions_idempotent_url", "/predictions/{prediction_id}"},
              {"predictions_cancel_url", "/predictions/{prediction_id}/cancel"}};
  if (training) {
    doc["trainings_url"] = "/trainings";
    doc["trainings_idempotent_url"] = "/trainings/{training_id}";
    doc["trainings_cancel_url"] = "/trainings/{training_id}/cancel";
  }
  return doc;
}

}  // namespace

void install_routes(httplib::Server& server, Supervisor& supervisor, ShutdownSignal& shutdown,
                    const ServerOptions& options) {
  server.set_tcp_nodelay(true);  // without it every keep-alive request waits on a delayed ACK
  server.set_keep_alive_max_count(1000000);
  // GuardedServer reads request heads and bounds idle connections itself (guarded_server.hpp).
  server.set_payload_max_length(options.http.max_body_bytes);
  server.set_read_timeout(options.http_read_timeout);
  server.set_write_timeout(options.http_read_timeout);

  const bool training = options.mode == "train";
  server.Get("/", [training](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, discovery_document(training));
  });
  server.Get("/health-check", [&supervisor](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, supervisor.health());
  });
  server.Get("/openapi.json", [&supervisor](const httplib::Request&, httplib::Response& res) {
    if (auto schema = supervisor.openapi()) {
      res.status = 200;
      res.set_content(*schema, "application/json");
    } else {
      send_json(res, 503, {{"error", "OpenAPI schema not available"}});
    }
  });
  server.Post("/shutdown", [&shutdown](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, json::object());
    shutdown.request("POST /shutdown");
  });
  for (const bool is_training : {false, true}) {
    const std::string base = is_training ? "/trainings" : "/predictions";
    server.Post(base, [&supervisor, &options, is_training](const httplib::Request& req, httplib::Response& res) {
      handle_create(req, res, supervisor, options.http, is_training, "");
    });
    server.Put(base + R"(/([^/]+))",
               [&supervisor, &options, is_training](const httplib::Request& req, httplib::Response& res) {
                 handle_create(req, res, supervisor, options.http, is_training, req.matches[1]);
               });
    server.Post(base + R"(/([^/]+)/cancel)", [&supervisor](const httplib::Request& req, httplib::Response& res) {
      send_json(res, supervisor.cancel(req.matches[1]) ? 200 : 404, json::object());
    });
  }
  // A known path asked with another method: 405 with an empty body, as Cog's router answers.
  const auto not_allowed = [](const httplib::Request&, httplib::Response& res) { res.status = 405; };
  for (const char* path : {"/", "/health-check", "/openapi.json"}) {
    server.Post(path, not_allowed).Put(path, not_allowed).Delete(path, not_allowed).Patch(path, not_allowed);
  }
  for (const char* path : {"/shutdown", "/predictions", "/trainings", R"(/(predictions|trainings)/[^/]+/cancel)"}) {
    server.Get(path, not_allowed).Put(path, not_allowed).Delete(path, not_allowed).Patch(path, not_allowed);
  }
  server.Get(R"(/(predictions|trainings)/[^/]+)", not_allowed)
      .Post(R"(/(predictions|trainings)/[^/]+)", not_allowed)
      .Delete(R"(/(predictions|trainings)/[^/]+)", not_allowed)
      .Patch(R"(/(predictions|trainings)/[^/]+)", not_allowed);
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal server error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& error) {
      message = error.what();
    } catch (...) {
    }
    send_json(res, 500, {{"error", message}});
  });
}

}  // namespace cog::runtime::server
