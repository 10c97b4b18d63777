#include "runtime/server/http_limits.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <vector>

namespace cog::runtime::server {

namespace {

// RFC 9110 §5.6.2 token characters.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return text.size() > 40 ? out + "..." : out;
}

}  // namespace

HeadCheck check_request_head(std::string_view head, const HttpLimits& limits) {
  HeadCheck result;
  const auto refuse = [&](int status, std::string message) {
    result.refusal = HeadRefusal{status, std::move(message)};
    return result;
  };
  if (head.size() > limits.max_header_bytes) {
    return refuse(431, "the request head is larger than " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') {
      if (i + 1 >= head.size() || head[i + 1] != '\n') return refuse(400, "a bare CR in the request head");
      lines.push_back(head.substr(start, i - start));
      start = ++i + 1;
    } else if (head[i] == '\n') {
      return refuse(400, "a line of the request head ends in LF without CR");
    } else if (head[i] == '\0') {
      return refuse(400, "a NUL byte in the request head");
    }
  }
  if (start != head.size()) return refuse(400, "the request head does not end in CRLF");
  if (lines.empty()) return refuse(400, "an empty request");

  // request-line = method SP request-target SP HTTP-version
  const std::string_view request_line = lines.front();
  if (request_line.size() > limits.max_request_line_bytes) {
    return refuse(414, "the request line is longer than " + std::to_string(limits.max_request_line_bytes) + " bytes");
  }
  const auto first_space = request_line.find(' ');
  const auto last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return refuse(400, "a malformed request line: '" + printable(request_line) + "'");
  }
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = request_line.substr(last_space + 1);
  if (!is_token(method)) return refuse(400, "a malformed method: '" + printable(method) + "'");
  if (target.empty() || std::any_of(target.begin(), target.end(),
                                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return refuse(400, "a malformed request target: '" + printable(target) + "'");
  }
  const bool http10 = version == "HTTP/1.0";
  if (!http10 && version != "HTTP/1.1") {
    const bool other_http = version.size() == 8 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) &&
                            version[6] == '.' && is_digit(version[7]);
    if (other_http) return refuse(505, "HTTP version " + std::string(version) + " is not supported; use HTTP/1.1");
    return refuse(400, "a malformed HTTP version: '" + printable(version) + "'");
  }
  result.framing.method = method;
  result.framing.target = target;

  if (lines.size() - 1 > limits.max_header_count) {
    return refuse(431, "more than " + std::to_string(limits.max_header_count) + " header fields");
  }
  std::vector<std::string> codings;
  for (std::size_t n = 1; n < lines.size(); ++n) {
    const std::string_view line = lines[n];
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      return refuse(400, "obsolete line folding in the request head");
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return refuse(400, "a header line without ':': '" + printable(line) + "'");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return refuse(400, "a malformed header name: '" + printable(name) + "'");
    const std::string value = support::trim(line.substr(colon + 1), " \t");
    if (std::any_of(value.begin(), value.end(),
                    [](char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; })) {
      return refuse(400, "a control character in the value of " + std::string(name));
    }
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 19 || !std::all_of(value.begin(), value.end(), is_digit)) {
        return refuse(400, "Content-Length must be a decimal number of bytes, got '" + printable(value) + "'");
      }
      const std::uint64_t length = std::stoull(std::string(value));
      if (result.framing.content_length && *result.framing.content_length != length) {
        return refuse(400, "two Content-Length headers that disagree");
      }
      result.framing.content_length = length;
    } else if (iequals(name, "Content-Encoding") && !value.empty() && !iequals(value, "identity")) {
      // cpp-httplib would inflate gzip/brotli bodies with no limit on the inflated size.
      return refuse(415, "Content-Encoding '" + printable(value) + "' is not accepted; send the body uncompressed");
    } else if (iequals(name, "Transfer-Encoding")) {
      std::size_t from = 0;
      while (from <= value.size()) {
        const auto comma = std::min(value.find(',', from), value.size());
        const std::string coding = support::trim(std::string_view(value).substr(from, comma - from), " \t");
        if (!coding.empty()) codings.emplace_back(coding);
        from = comma + 1;
      }
    }
  }
  if (!codings.empty()) {
    if (http10) return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (result.framing.content_length) return refuse(400, "both Transfer-Encoding and Content-Length");
    for (const auto& coding : codings) {
      if (!iequals(coding, "chunked")) {
        return refuse(501, "Transfer-Encoding '" + printable(coding) +
                               "' is not supported; send the body with Content-Length or chunked");
      }
    }
    if (codings.size() > 1) return refuse(400, "Transfer-Encoding names chunked more than once");
    result.framing.chunked = true;
  }
  if (result.framing.content_length && *result.framing.content_length > limits.max_body_bytes) {
    return refuse(413, "the request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  return result;
}

std::size_t json_nesting_depth(std::string_view text, std::size_t stop_above) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > stop_above) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::optional<std::string> prediction_id_problem(std::string_view id) {
  constexpr std::size_t kMaxIdBytes = 256;
  if (id.empty()) return "is empty";
  if (id.size() > kMaxIdBytes) return "is longer than " + std::to_string(kMaxIdBytes) + " bytes";
  for (std::size_t i = 0; i < id.size();) {
    const auto byte = static_cast<unsigned char>(id[i]);
    if (byte < 0x20 || byte == 0x7f) return "contains a control character";
    // The sequence's length from its lead byte (0: not a lead byte), and the smallest code point
    // it may carry (anything smaller is an overlong encoding).
    std::size_t length = 1;
    std::uint32_t lowest = 0;
    if (byte >= 0xf5 || (byte >= 0x80 && byte < 0xc2)) {
      length = 0;
    } else if (byte >= 0xf0) {
      length = 4;
      lowest = 0x10000;
    } else if (byte >= 0xe0) {
      length = 3;
      lowest = 0x800;
    } else if (byte >= 0xc2) {
      length = 2;
      lowest = 0x80;
    }
    if (length == 0 || i + length > id.size()) return "is not valid UTF-8";
    std::uint32_t code = length == 1 ? byte : byte & (0x7f >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(id[i + k]);
      if ((next & 0xc0) != 0x80) return "is not valid UTF-8";
      code = (code << 6) | (next & 0x3f);
    }
    if (code < lowest || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "is not valid UTF-8";
    i += length;
  }
  return std::nullopt;
}

const char* http_reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

}  // namespace cog::runtime::server
