#pragma once
// A thin, blocking HTTP client over one libcurl easy handle (connections are reused between
// requests). One per thread: it is not thread-safe. Transport failures come back in the response,
// never as exceptions, so callers decide whether to retry.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cog::builder::registry {

struct TlsOptions {
  bool skip_verify = false;  // only with --insecure
  std::string ca_bundle;     // a PEM file of CAs to trust instead of the system's; empty = system
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // `Name: value`
  std::string body;                  // sent when `upload` is empty
  // Streaming request body: fill up to `max` bytes, return how many (0 = end).
  std::function<size_t(char* buffer, size_t max)> upload;
  int64_t upload_size = -1;  // Content-Length of `upload`; -1 = unknown
  // Streaming response body for 2xx answers; return false to abort the transfer.
  std::function<bool(const char* data, size_t size)> download;
  // Called once with the final 2xx response's status and headers, before `download` sees a byte.
  std::function<void(const struct HttpResponse& head)> on_download_start;
  bool follow_redirects = true;
};

struct HttpResponse {
  long status = 0;                                  // 0 when the transport failed
  std::multimap<std::string, std::string> headers;  // lower-case names, of the final response
  std::string body;                                 // error bodies, and 2xx bodies without `download`
  std::string url;                                  // the effective URL after redirects
  int transport_code = 0;                           // CURLcode; 0 = the exchange completed
  std::string transport_error;                      // libcurl's words when transport_code != 0

  bool ok() const { return transport_code == 0 && status >= 200 && status < 300; }
  std::string header(const std::string& lower_name) const;  // first value or ""
  std::vector<std::string> header_values(const std::string& lower_name) const;
  // The server refused to speak TLS (plain HTTP on the port): the cue to try http://.
  bool tls_not_spoken() const;
  // Worth another try: the connection dropped, timed out, or the server said 5xx / 429.
  bool retryable() const;
};

class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse perform(const HttpRequest& request);
  const TlsOptions& tls() const { return tls_; }

 private:
  TlsOptions tls_;
  void* handle_;  // CURL*
};

// Resolves a `Location` header (absolute, or relative to `base`) into an absolute URL.
std::string resolve_url(const std::string& base, const std::string& location);
// Percent-encodes a query value.
std::string url_encode(const std::string& value);

}  // namespace cog::builder::registry
