#include "runtime/playground/playground.hpp"

#include <httplib.h>

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "runtime/playground/assets.hpp"
#include "runtime/server/guarded_server.hpp"
#include "support/error.hpp"
#include "support/subprocess.hpp"

namespace cog::runtime::playground {

using nlohmann::json;

namespace {

constexpr auto kKeepAlive = std::chrono::seconds(15);

bool terminal_status(const json& state) {
  const auto status = state.value("status", std::string());
  return status == "succeeded" || status == "failed" || status == "canceled";
}

// Who may post webhooks: only a sender that was told the URL (the target, through the page's
// prediction request). Without it any local process, any machine (--host 0.0.0.0) or a
// cross-site form from a browser sending no Origin could feed the page states of its choosing.
std::string random_token() {
  std::random_device source;
  std::string token;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    const auto byte = source() & 0xffu;
    token += kHex[byte >> 4];
    token += kHex[byte & 0xfu];
  }
  return token;
}

void reply_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

}  // namespace

PlaygroundServer::PlaygroundServer(PlaygroundOptions options)
    : options_(std::move(options)),
      target_(parse_target(options_.target)),
      webhook_token_(random_token()),
      server_(std::make_unique<server::GuardedServer>(
          [this] {
            auto limits = options_.http;
            // Twice the cap: cpp-httplib then answers a body somewhat over it with the JSON 413
            // below after draining it, where the guard would close mid-upload; far larger ones
            // are still cut off at the head.
            limits.max_body_bytes = 2 * std::max(options_.max_request_bytes, options_.max_webhook_bytes);
            return limits;
          }(),
          nullptr)) {
  // A plain cpp-httplib server would let a client that sends a byte now and then, or a few dozen
  // that send nothing, hold every thread (its timeouts are per read; its pool is fixed): the
  // guard bounds each request head and idle connection, and gives each connection its thread
  // (SSE streams hold one while open) up to a budget.
  server_->set_payload_max_length(options_.max_request_bytes);
  server_->set_read_timeout(300, 0);
  add_routes();
}

PlaygroundServer::~PlaygroundServer() { stop(); }

void PlaygroundServer::add_routes() {
  auto& server = *server_;
  // On every answer: no other site may frame the page (clickjacking its Run button), no answer is
  // sniffed into HTML, and the page runs only its own script, whatever a model's schema or output
  // holds (outputs may show images and media from anywhere, and data: URLs).
  server.set_default_headers({
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data: blob: http: https:; media-src 'self' data: blob: http: https:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
      {"X-Frame-Options", "DENY"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
  });
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    auto problem = cross_site_problem(options_.host, options_.webhook_host, req.get_header_value("Host"),
                                      req.get_header_value("Origin"));
    int status = 403;
    if (problem.empty()) {
      problem = api_body_problem(req.method, req.path, req.get_header_value("Content-Type"));
      status = 415;
    }
    if (problem.empty()) return httplib::Server::HandlerResponse::Unhandled;
    reply_json(res, status, json_error(problem));
    return httplib::Server::HandlerResponse::Handled;
  });
  for (const auto& asset : page_assets()) {
    server.Get(std::string(asset.path), [asset](const httplib::Request&, httplib::Response& res) {
      res.set_content(asset.body.data(), asset.body.size(),
                      (std::string(asset.content_type) + "; charset=utf-8").c_str());
      res.set_header("Cache-Control", "no-store");
    });
  }
  server.Get("/playground/config", [this](const httplib::Request&, httplib::Response& res) {
    json config = {
        {"target", target_.url()},
        {"webhook_url", webhook_url()},
        {"limits",
         {{"max_request_bytes", options_.max_request_bytes}, {"max_webhook_bytes", options_.max_webhook_bytes}}}};
    reply_json(res, 200, config.dump());
  });

  auto api = [this](const httplib::Request& req, httplib::Response& res) {
    ProxyRequest call;
    call.method = req.method;
    call.path = req.matches[1].str().empty() ? "/" : req.matches[1].str();
    call.body = req.body;
    for (const char* name : {"Prefer", "traceparent", "tracestate"}) {
      if (req.has_header(name)) call.headers[name] = req.get_header_value(name);
    }
    // The page reads answers as JSON: SSE mode (Accept: text/event-stream) is not proxied.
    call.headers["Accept"] = "application/json";
    auto answer = forward(target_, call);
    res.status = answer.status;
    // Always JSON (forward() passes only JSON bodies): a target's text/html would turn a JSON
    // string holding markup into a page on the playground's origin.
    res.set_content(answer.body, "application/json");
  };
  server.Get(R"(/api(/.*)?)", api);
  server.Post(R"(/api(/.*)?)", api);
  server.Put(R"(/api(/.*)?)", api);
  server.Delete(R"(/api(/.*)?)", api);  // refused by the allow-list, with a clear message

  server.Post(R"(/webhook(/.*)?)", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1].str() != "/" + webhook_token_) {
      return reply_json(res, 403,
                        json_error("webhooks go to the URL this playground hands out (/playground/config "
                                   "\"webhook_url\", /webhook/<its token>), not " +
                                   req.path));
    }
    if (req.body.size() > options_.max_webhook_bytes) {
      return reply_json(
          res, 413,
          json_error("a webhook body is limited to " + std::to_string(options_.max_webhook_bytes) + " bytes"));
    }
    json state = json::parse(req.body, nullptr, false);
    if (!state.is_object() || !state.contains("id") || !state["id"].is_string()) {
      return reply_json(res, 400, json_error("a webhook body is a JSON prediction with a string \"id\""));
    }
    // One line, as an SSE data field needs it.
    relay_.publish(state["id"].get<std::string>(), state.dump(-1, ' ', false, json::error_handler_t::replace));
    reply_json(res, 200, "{}");
  });

  server.Get(R"(/events/([A-Za-z0-9._~\-]{1,200}))", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = req.matches[1].str();
    auto next = std::make_shared<std::size_t>(0);
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider("text/event-stream", [this, id, next](std::size_t, httplib::DataSink& sink) {
      if (!sink.is_writable()) return false;
      std::size_t after = *next;
      auto events = relay_.wait(id, *next, std::chrono::duration_cast<std::chrono::milliseconds>(kKeepAlive), &after);
      if (relay_.stopped()) {
        sink.done();
        return true;
      }
      if (events.empty()) {
        const std::string ping = ": keep-alive\n\n";
        return sink.write(ping.data(), ping.size());
      }
      bool finished = false;
      for (const auto& event : events) {
        const std::string frame = "event: webhook\ndata: " + event + "\n\n";
        if (!sink.write(frame.data(), frame.size())) return false;
        finished = finished || terminal_status(json::parse(event, nullptr, false));
      }
      *next = after;
      if (finished) sink.done();
      return true;
    });
  });

  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 413) {
      message = "the request body is larger than the playground forwards (" +
                std::to_string(options_.max_request_bytes) + " bytes)";
    } else if (res.status == 404) {
      message = "no such playground page: " + req.path;
    }
    res.set_content(json_error(message), "application/json");
  });
}

int PlaygroundServer::bind() {
  bound_port_ = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                   : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (bound_port_ <= 0) {
    throw Error(ErrorKind::Io, "cog playground " + options_.host + ":" + std::to_string(options_.port),
                "cannot listen there (in use, or not an address of this machine)",
                "pass another --port (0 picks a free one) or --host");
  }
  return bound_port_;
}

void PlaygroundServer::run() { server_->listen_after_bind(); }

void PlaygroundServer::wait_until_running() const {
  // Debian 12's cpp-httplib has no wait_until_ready(), and its stop() is a no-op until the accept
  // loop runs: a stop() racing ahead of run() would leave run() serving forever.
  // Bounded: a run() that failed at once must not hang its caller.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void PlaygroundServer::stop() {
  relay_.stop();
  if (server_) server_->stop();
}

std::string PlaygroundServer::url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  const std::string host = options_.host == "0.0.0.0" ? "localhost" : (v6 ? "[" + options_.host + "]" : options_.host);
  return "http://" + host + ":" + std::to_string(bound_port_) + "/";
}

std::string PlaygroundServer::webhook_url() const {
  return "http://" + options_.webhook_host + ":" + std::to_string(bound_port_) + "/webhook/" + webhook_token_;
}

BackgroundPlayground::BackgroundPlayground(PlaygroundOptions options) : server_(std::move(options)) {
  server_.bind();
  thread_ = std::thread([this] { server_.run(); });
  server_.wait_until_running();
}

BackgroundPlayground::~BackgroundPlayground() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

bool open_in_browser(const std::string& url) {
  if (!support::find_program("xdg-open")) return false;
  // Detached: a browser's first start can take a while, and its chatter is not ours to print.
  std::thread([url] {
    support::SpawnOptions quiet;
    quiet.capture_stdout = true;
    quiet.capture_stderr = true;
    try {
      support::run_captured({"xdg-open", url}, quiet);
    } catch (const std::exception&) {
    }
  }).detach();
  return true;
}

}  // namespace cog::runtime::playground
