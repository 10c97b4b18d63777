#include "builder/registry/http.hpp"
#include "support/text.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace cog::builder::registry {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

void global_init_once() {
  static std::once_flag once;  // libcurl's own process-wide initialisation, nothing of ours
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the libcurl callbacks see of one transfer.
struct Transfer {
  const HttpRequest& request;
  HttpResponse& response;
  size_t body_offset = 0;
  bool download_started = false;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (redirect, 100 Continue): start over
    transfer->response.headers.clear();
    auto space = line.find(' ');
    transfer->response.status = space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    transfer->response.headers.emplace(name, support::trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  long status = transfer->response.status;
  if (status >= 300 && status < 400 && transfer->request.follow_redirects) return bytes;
  if (status >= 200 && status < 300 && transfer->request.download) {
    if (!transfer->download_started) {
      transfer->download_started = true;
      if (transfer->request.on_download_start) transfer->request.on_download_start(transfer->response);
    }
    return transfer->request.download(data, bytes) ? bytes : 0;
  }
  if (transfer->response.body.size() < kMaxErrorBody || (status >= 200 && status < 300))
    transfer->response.body.append(data, bytes);
  return bytes;
}

size_t on_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t max = size * count;
  if (transfer->request.upload) return transfer->request.upload(buffer, max);
  const std::string& body = transfer->request.body;
  size_t n = std::min(max, body.size() - transfer->body_offset);
  std::copy_n(body.data() + transfer->body_offset, n, buffer);
  transfer->body_offset += n;
  return n;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::vector<std::string> HttpResponse::header_values(const std::string& lower_name) const {
  std::vector<std::string> values;
  auto [first, last] = headers.equal_range(lower_name);
  for (auto it = first; it != last; ++it) values.push_back(it->second);
  return values;
}

bool HttpResponse::tls_not_spoken() const { return transport_code == CURLE_SSL_CONNECT_ERROR; }

bool HttpResponse::retryable() const {
  switch (transport_code) {
    case CURLE_OK:
      return status >= 500 || status == 429 || status == 408;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

HttpClient::HttpClient(TlsOptions tls) : tls_(std::move(tls)) {
  global_init_once();
  handle_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

HttpResponse HttpClient::perform(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(handle_);
  curl_easy_reset(curl);  // keeps the connection cache
  HttpResponse response;
  Transfer transfer{request, response};
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "cog/" COG_VERSION);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled connection is a dropped connection: under 1 byte/s for a minute fails the transfer.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (tls_.skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls_.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, tls_.ca_bundle.c_str());

  bool sends_body = request.upload || !request.body.empty() || request.method == "PUT" || request.method == "POST" ||
                    request.method == "PATCH";
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (sends_body) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);  // PUT semantics, method overridden below
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_off_t size = request.upload ? request.upload_size : static_cast<curl_off_t>(request.body.size());
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
    if (request.method != "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& header : request.headers) headers = curl_slist_append(headers, header.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  response.transport_code = code;
  if (code != CURLE_OK) {
    response.transport_error = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  } else {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
  }
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  response.url = effective ? effective : request.url;
  return response;
}

std::string resolve_url(const std::string& base, const std::string& location) {
  CURLU* url = curl_url();
  curl_url_set(url, CURLUPART_URL, base.c_str(), 0);
  std::string resolved = location;
  if (curl_url_set(url, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    char* text = nullptr;
    if (curl_url_get(url, CURLUPART_URL, &text, 0) == CURLUE_OK) {
      resolved = text;
      curl_free(text);
    }
  }
  curl_url_cleanup(url);
  return resolved;
}

std::string url_encode(const std::string& value) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace cog::builder::registry
