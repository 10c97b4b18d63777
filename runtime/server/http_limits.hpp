#pragma once
// What cog-server refuses from an HTTP client before any handler runs: the limits on a request's
// head and body, the connection budget, and the RFC 9112 framing rules that keep a request from
// meaning two things (request smuggling). Each limit is a setting (COG_HTTP_*, docs/security.md "Limits
// and security").
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cog::runtime::server {

struct HttpLimits {
  std::size_t max_request_line_bytes = 8 * 1024;    // longer: 414
  std::size_t max_header_bytes = 64 * 1024;         // the whole head; larger: 431
  std::size_t max_header_count = 100;               // more: 431
  std::size_t max_body_bytes = 100 * 1024 * 1024;   // Cog's 100 MiB; larger: 413
  std::size_t max_json_depth = 128;                 // deeper request bodies: 400 (as serde_json)
  std::chrono::milliseconds head_timeout{10'000};   // the whole head, from its first byte: 408
  std::chrono::milliseconds body_timeout{300'000};  // the whole body, from the end of the head
  std::chrono::milliseconds idle_timeout{60'000};   // a kept-alive connection waiting for a request
  std::size_t max_connections = 1024;               // beyond: only health checks, then 503
};

// A refusal: the status to answer with (the connection is closed after it) and why.
struct HeadRefusal {
  int status = 400;
  std::string message;
};

// What the server needs to know of an accepted head to read its body.
struct HeadFraming {
  std::string method;
  std::string target;
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
};

struct HeadCheck {
  std::optional<HeadRefusal> refusal;
  HeadFraming framing;
};

// Checks a complete request head (request line and header lines, each ending in CRLF, without the
// empty line that ends the head) against `limits` and RFC 9112: one well-formed request line, no
// bare CR or LF, no obsolete line folding, no whitespace before a header's colon, Content-Length
// only as digits (duplicates must agree), Transfer-Encoding only "chunked" and never beside a
// Content-Length or in HTTP/1.0, no Content-Encoding but identity (no inflating bodies).
HeadCheck check_request_head(std::string_view head, const HttpLimits& limits);

// How deeply arrays and objects nest in a JSON text, counting only brackets outside strings;
// stops counting (and returns) once `stop_above` is exceeded. The text need not be valid JSON.
std::size_t json_nesting_depth(std::string_view text, std::size_t stop_above);

// Why `id` cannot be a prediction or training ID, or nothing when it can: it must be 1-256 bytes
// of valid UTF-8 without control characters (IDs travel to the worker and back in JSON, in URLs
// and in webhooks, and must come back byte for byte).
std::optional<std::string> prediction_id_problem(std::string_view id);

const char* http_reason(int status);

}  // namespace cog::runtime::server
