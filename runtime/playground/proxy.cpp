#include "runtime/playground/proxy.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cctype>
#include <regex>

#include "support/error.hpp"

namespace cog::runtime::playground {

std::string Target::url() const { return "http://" + host + ":" + std::to_string(port) + prefix; }

Target parse_target(const std::string& url) {
  const std::string fix = "pass --target http://HOST:PORT, e.g. --target http://localhost:8393";
  static const std::regex shape(R"(^http://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?(/[^?#]*)?$)");
  std::smatch match;
  if (url.rfind("https://", 0) == 0) {
    throw Error(ErrorKind::Usage, "--target " + url, "the playground forwards to plain http:// only",
                "point it at the Cog server's local port, " + fix.substr(5));
  }
  if (!std::regex_match(url, match, shape)) {
    throw Error(ErrorKind::Usage, "--target " + url, "not an http://HOST[:PORT] URL", fix);
  }
  Target target;
  target.host = match[1].str();
  if (target.host.front() == '[') target.host = target.host.substr(1, target.host.size() - 2);
  if (match[2].matched) {
    target.port = std::stoi(match[2].str());
    if (target.port < 1 || target.port > 65535) {
      throw Error(ErrorKind::Usage, "--target " + url, "port out of range", fix);
    }
  }
  target.prefix = match[3].str();
  while (!target.prefix.empty() && target.prefix.back() == '/') target.prefix.pop_back();
  return target;
}

bool allowed_api_call(const std::string& method, const std::string& path) {
  static const std::regex reads(R"(^/(openapi\.json|health-check)?$)");
  static const std::regex creates(R"(^/(predictions|trainings)$)");
  // An id is not "." or "..": the target (or a proxy before it) would read those as path steps.
  static const std::regex by_id(R"(^/(predictions|trainings)/(?!\.{1,2}(/|$))[A-Za-z0-9._~\-]{1,200}$)");
  static const std::regex cancel(R"(^/(predictions|trainings)/(?!\.{1,2}/)[A-Za-z0-9._~\-]{1,200}/cancel$)");
  if (method == "GET") return std::regex_match(path, reads);
  if (method == "POST") return std::regex_match(path, creates) || std::regex_match(path, cancel);
  if (method == "PUT") return std::regex_match(path, by_id);
  return false;
}

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A DNS name can be rebound to this machine; an address literal cannot.
bool is_address_literal(const std::string& name) {
  in6_addr v6{};
  in_addr v4{};
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    return ::inet_pton(AF_INET6, name.substr(1, name.size() - 2).c_str(), &v6) == 1;
  }
  return ::inet_pton(AF_INET, name.c_str(), &v4) == 1;
}

std::string this_machine_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return lower(name);
}

}  // namespace

std::string cross_site_problem(const std::string& listen_host, const std::string& webhook_host,
                               const std::string& host_header, const std::string& origin_header) {
  if (!origin_header.empty() && lower(origin_header) != "http://" + lower(host_header)) {
    return "requests from another site (Origin " + origin_header + ") are refused";
  }
  // The name without its port ("[::1]:9000" → "[::1]", "localhost:9000" → "localhost").
  std::string name = lower(host_header);
  const auto colon = name.rfind(':');
  if (colon != std::string::npos && name.find(']', colon) == std::string::npos) name.resize(colon);
  for (const auto& allowed :
       {std::string("127.0.0.1"), std::string("localhost"), std::string("[::1]"), lower(webhook_host)}) {
    if (name == allowed) return "";
  }
  const bool loopback = listen_host == "127.0.0.1" || listen_host == "localhost" || listen_host == "::1";
  if (loopback) {
    return "the playground listens on " + listen_host + " and answers only to loopback names, not Host " + host_header;
  }
  // Listening on other interfaces: other machines reach it by address or by this machine's name.
  // Any other DNS name may be an attacker's, rebound to this machine for the user's browser.
  if (is_address_literal(name) || name == lower(listen_host) || (!name.empty() && name == this_machine_name())) {
    return "";
  }
  return "the playground answers to this machine's addresses, its name (" + this_machine_name() +
         "), localhost and the --webhook-host, not Host " + host_header +
         " (a name that may point here only for now) — open it by IP address, or pass that name as --webhook-host";
}

std::string api_body_problem(const std::string& method, const std::string& path, const std::string& content_type) {
  if (method != "POST" && method != "PUT") return "";
  if (path != "/api" && path.rfind("/api/", 0) != 0) return "";
  // The media type without its parameters (charset), compared case-insensitively.
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == "application/json") return "";
  return "the playground forwards " + method + " " + path.substr(4) +
         " only with Content-Type: application/json (got " + (content_type.empty() ? "none" : content_type) +
         ") — send the JSON body the Cog API takes";
}

std::string json_error(const std::string& message) { return nlohmann::json{{"error", message}}.dump(); }

namespace {

std::string describe(std::chrono::milliseconds span) {
  if (span.count() % 1000 != 0) return std::to_string(span.count()) + " ms";
  return std::to_string(span.count() / 1000) + " s";
}

bool looks_like_json(const std::string& body) { return nlohmann::json::accept(body); }

std::string snippet(const std::string& body) {
  std::string out = body.substr(0, 120);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return body.size() > 120 ? out + "…" : out;
}

}  // namespace

std::chrono::milliseconds answer_timeout(const std::string& method, const std::string& path) {
  static const std::regex runs(R"(^/(predictions|trainings)(/[^/]+)?$)");
  if ((method == "POST" || method == "PUT") && std::regex_match(path, runs)) return std::chrono::hours(24);
  return std::chrono::seconds(30);
}

ProxyResponse forward(const Target& target, const ProxyRequest& request) {
  ProxyResponse out;
  if (!allowed_api_call(request.method, request.path)) {
    out.status = 404;
    out.body = json_error("the playground forwards only Cog API calls (GET /openapi.json, POST /predictions, …), not " +
                          request.method + " " + request.path);
    return out;
  }
  httplib::Client client(target.host, target.port);
  client.set_connection_timeout(5, 0);
  const auto waited = request.answer_timeout.value_or(answer_timeout(request.method, request.path));
  client.set_read_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(waited).count(),
      std::chrono::duration_cast<std::chrono::microseconds>(waited % std::chrono::seconds(1)).count());
  client.set_write_timeout(60, 0);
  httplib::Headers headers;
  for (const auto& [name, value] : request.headers) {
    // This cpp-httplib client writes values as given: a CR or LF would start a header of the
    // caller's choosing (or a second request) on the way to the target.
    if (value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos) headers.emplace(name, value);
  }
  const std::string path = target.prefix + request.path;
  const std::string content_type = "application/json";
  httplib::Result result = request.method == "GET"    ? client.Get(path, headers)
                           : request.method == "POST" ? client.Post(path, headers, request.body, content_type)
                                                      : client.Put(path, headers, request.body, content_type);
  if (!result && result.error() == httplib::Error::Read) {
    out.status = 504;
    out.body = json_error("the Cog server at " + target.url() + " did not answer " + request.method + " " +
                          request.path + " within " + describe(waited) + " — is it stuck? its logs may say why");
    return out;
  }
  if (!result) {
    out.body = json_error("cannot reach the Cog server at " + target.url() + " (" + httplib::to_string(result.error()) +
                          ") — start it with `cog serve`, or point the playground at it with --target");
    return out;
  }
  const bool json = looks_like_json(result->body);
  if (!json) {
    // An HTML 404 from another web server, or nothing: say so rather than hand the page a blank.
    out.body = json_error(target.url() + " does not answer like a Cog server: " + request.method + " " + request.path +
                          " returned HTTP " + std::to_string(result->status) +
                          (result->body.empty() ? " with an empty body" : ": " + snippet(result->body)));
    return out;
  }
  if (request.path == "/openapi.json" && result->status == 200) {
    auto schema = nlohmann::json::parse(result->body);
    if (!schema.is_object() || !schema.contains("paths") || !schema["paths"].is_object()) {
      out.body = json_error(target.url() + " is not a Cog API: its /openapi.json has no \"paths\"");
      return out;
    }
  }
  out.status = result->status;
  out.content_type = result->get_header_value("Content-Type", 0);
  if (out.content_type.empty()) out.content_type = "application/json";
  out.body = result->body;
  return out;
}

}  // namespace cog::runtime::playground
