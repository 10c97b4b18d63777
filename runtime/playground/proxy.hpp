#pragma once
// The playground's reverse proxy: the page sends its Cog API calls to /api/<path> on the
// playground server, which forwards them to the one target chosen on the command line. The
// client never names a host: only the path is taken from the request, and only Cog API paths
// (/, /openapi.json, /health-check, /predictions…, /trainings…) pass, so this is no open proxy.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace cog::runtime::playground {

// http://host[:port][/prefix] split up. Only plain http: the target is a local Cog server.
struct Target {
  std::string host;
  int port = 80;
  std::string prefix;  // "" or "/something", never a trailing slash

  std::string url() const;  // http://host:port/prefix
};

// Throws cog::Error (Usage) naming `--target` and what is wrong.
Target parse_target(const std::string& url);

// Whether the page may send `method` to the Cog API path `path` (which starts with '/').
bool allowed_api_call(const std::string& method, const std::string& path);

struct ProxyRequest {
  std::string method;
  std::string path;  // the Cog API path, e.g. /predictions
  std::string body;
  std::map<std::string, std::string> headers;               // only those the proxy forwards (see proxy.cpp)
  std::optional<std::chrono::milliseconds> answer_timeout;  // unset: answer_timeout(method, path)
};

// How long the proxy waits for the target's answer to one call: a prediction or training may run
// for hours (a synchronous one answers when it is done), everything else answers at once, so a
// target that hangs must not hold those requests (the page polls /health-check every 5 s).
std::chrono::milliseconds answer_timeout(const std::string& method, const std::string& path);

struct ProxyResponse {
  int status = 502;
  std::string content_type = "application/json";
  std::string body;
};

// Forwards one call and returns the target's answer, or a JSON {"error": …} of the proxy's own
// (502 when the target cannot be reached or does not answer like a Cog server, 504 when it does
// not answer in time).
ProxyResponse forward(const Target& target, const ProxyRequest& request);

// Whether a request may reach the playground at all, against cross-site use from the user's own
// browser: another site's page may not drive the model through it (its Origin differs from the
// Host it sent to), nor reach it by a DNS name rebound to 127.0.0.1 (while the playground listens
// on loopback, the Host must be a loopback name, or `webhook_host` for the model's webhooks).
// Returns why not, or "" when it may.
std::string cross_site_problem(const std::string& listen_host, const std::string& webhook_host,
                               const std::string& host_header, const std::string& origin_header);

// Whether a call to the playground's /api/… (`path` as requested, e.g. /api/predictions) carries
// the JSON body the proxy forwards: POST and PUT must say Content-Type: application/json. Another
// site's <form> can send only form types or text/plain, and fetch() a JSON type only after a CORS
// preflight the playground never grants, so this stops cross-site requests even from a browser
// that sends no Origin. Returns why not, or "" when it may.
std::string api_body_problem(const std::string& method, const std::string& path, const std::string& content_type);

// {"error": message} as a string.
std::string json_error(const std::string& message);

}  // namespace cog::runtime::playground
