#pragma once
// One registry host, shared by all the threads of a transfer: which scheme it speaks, how it wants
// to be authenticated, and the bearer tokens obtained so far (per scope set). Every request goes
// through send(), which adds the Authorization header, answers 401 challenges once (fetching a
// fresh token), and retries dropped connections and 5xx answers with exponential back-off.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "builder/registry/challenge.hpp"
#include "builder/registry/credential_helper.hpp"
#include "builder/registry/http.hpp"
#include "builder/registry/stats.hpp"

namespace cog::builder::registry {

struct ClientOptions {
  TlsOptions tls;                                // CA bundle; skip_verify is set for this registry when `insecure`
  bool insecure = false;                         // allow plain HTTP and unverified TLS for a non-loopback registry
  int max_attempts = 5;                          // per request, for retryable failures
  std::chrono::milliseconds retry_backoff{500};  // doubled after each failed attempt, capped at 8 s
  // Where credentials come from; empty = anonymous.
  std::function<std::optional<Credentials>(const std::string& registry)> credentials;
};

// `repository:<name>:pull` / `repository:<name>:pull,push`, as token servers expect them.
using Scopes = std::vector<std::string>;
std::string pull_scope(const std::string& repository);
std::string push_scope(const std::string& repository);

class RegistryClient {
 public:
  RegistryClient(std::string registry, ClientOptions options, TransferStats& stats);

  const std::string& registry() const { return registry_; }
  TransferStats& stats() { return stats_; }

  // A new HTTP client with this registry's TLS settings (one per thread).
  std::unique_ptr<HttpClient> connect() const;

  // `https://host` or `http://host`, probing once with GET /v2/ (plain HTTP only for loopback
  // hosts or --insecure). Throws cog::Error when the registry cannot be reached.
  std::string base_url(HttpClient& http);

  // Builds a request from the base URL (called again for every attempt, so streaming bodies
  // restart), authenticates it for `scopes`, sends it. Retries only when `retry` is set.
  HttpResponse send(HttpClient& http, const Scopes& scopes,
                    const std::function<HttpRequest(const std::string& base_url)>& make, bool retry = true);

  // Checks that the configured credentials are accepted (GET /v2/, answering its challenge).
  // Throws cog::Error naming the registry when they are not.
  void verify_login(HttpClient& http);

 private:
  std::string authorization(HttpClient& http, const Scopes& scopes);
  // Reacts to a 401: remembers the challenge, fetches a token. False when nothing can be done.
  bool answer_challenge(HttpClient& http, const HttpResponse& unauthorized, const Scopes& scopes);
  std::string fetch_token(HttpClient& http, const Challenge& challenge, const Scopes& scopes);
  std::optional<Credentials> credentials();
  void sleep_before_retry(int attempt) const;

  std::string registry_;
  ClientOptions options_;
  TransferStats& stats_;

  std::mutex fetch_mutex_;  // one token request at a time, so parallel blobs share one token
  std::mutex mutex_;        // guards everything below
  std::string base_url_;
  std::optional<Challenge> challenge_;         // the scheme the registry asked for
  std::map<std::string, std::string> tokens_;  // scope key -> bearer token
  bool credentials_loaded_ = false;
  std::optional<Credentials> credentials_;
};

}  // namespace cog::builder::registry
