#pragma once
// `cog playground`: a browser UI for a running Cog API. One cpp-httplib server serves the page
// (compiled in, see assets.hpp), forwards the page's API calls to the target (proxy.hpp), and
// receives the target's webhooks, relaying them to the page over SSE (webhook_relay.hpp).
//
//   GET  /                      the page (and /app.js, /app.css)
//   GET  /playground/config     {"target", "webhook_url", "limits"} for the page
//   GET|POST|PUT /api/<path>    the Cog API call <path>, forwarded to the target
//   POST /webhook/<token>       a webhook from the target (body: the prediction state); the token
//                               is random per server and only the page and the target learn it
//   GET  /events/<id>           SSE: `event: webhook` per webhook received for prediction <id>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "runtime/playground/proxy.hpp"
#include "runtime/playground/webhook_relay.hpp"
#include "runtime/server/http_limits.hpp"

namespace httplib {
class Server;
}

namespace cog::runtime::playground {

struct PlaygroundOptions {
  std::string target = "http://localhost:8393";
  std::string host = "127.0.0.1";                       // where the playground listens
  int port = 0;                                         // 0: any free port
  std::string webhook_host = "host.docker.internal";    // how the target's server reaches us
  std::size_t max_request_bytes = 64u * 1024u * 1024u;  // a page's API call (file inputs inline)
  std::size_t max_webhook_bytes = 16u * 1024u * 1024u;  // one webhook body
  // The connection guard cog-server uses (runtime/server/guarded_server.hpp): a deadline for each
  // request head, idle keep-alive connections bounded, a connection budget. max_body_bytes is
  // set from the two limits above.
  server::HttpLimits http = [] {
    server::HttpLimits limits;
    limits.max_connections = 256;
    return limits;
  }();
};

class PlaygroundServer {
 public:
  // Throws cog::Error (Usage) for a target that is not http://HOST[:PORT].
  explicit PlaygroundServer(PlaygroundOptions options);
  ~PlaygroundServer();
  PlaygroundServer(const PlaygroundServer&) = delete;
  PlaygroundServer& operator=(const PlaygroundServer&) = delete;

  // Binds host:port (throws cog::Error when it cannot) and returns the port actually bound.
  int bind();
  // Serves until stop(). bind() first.
  void run();
  // Returns once run() accepts connections (another thread calls run()).
  void wait_until_running() const;
  void stop();

  std::string url() const;          // http://host:port/ as bound
  std::string webhook_url() const;  // http://webhook_host:port/webhook/<token>

 private:
  void add_routes();

  PlaygroundOptions options_;
  Target target_;
  int bound_port_ = 0;
  std::string webhook_token_;  // 32 hex digits from the system's random source
  WebhookRelay relay_;
  std::unique_ptr<httplib::Server> server_;
};

// A playground on its own thread (`cog serve --playground`), stopped and joined on destruction.
class BackgroundPlayground {
 public:
  explicit BackgroundPlayground(PlaygroundOptions options);  // binds, then starts serving
  ~BackgroundPlayground();
  std::string url() const { return server_.url(); }

 private:
  PlaygroundServer server_;
  std::thread thread_;
};

// Opens `url` in the desktop's browser through xdg-open, quietly; false when there is none.
bool open_in_browser(const std::string& url);

}  // namespace cog::runtime::playground
