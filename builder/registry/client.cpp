#include "builder/registry/client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "builder/registry/docker_config.hpp"
#include "builder/registry/reference.hpp"
#include "builder/registry/registry_error.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

std::string scope_key(const Scopes& scopes) {
  Scopes sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  std::string key;
  for (const auto& scope : sorted) key += scope + " ";
  return key;
}

std::optional<Challenge> preferred_challenge(const HttpResponse& response) {
  std::optional<Challenge> basic;
  for (const auto& header : response.header_values("www-authenticate")) {
    for (auto& challenge : parse_challenges(header)) {
      if (challenge.scheme == "bearer") return challenge;
      if (challenge.scheme == "basic") basic = challenge;
    }
  }
  return basic;
}

std::string unreachable_fix(const HttpResponse& response) {
  if (response.transport_code == CURLE_PEER_FAILED_VERIFICATION)
    return "trust its CA with --ca-bundle FILE (or COG_REGISTRY_CA_BUNDLE), or pass --insecure";
  return "check the registry address and your network";
}

}  // namespace

std::string pull_scope(const std::string& repository) { return "repository:" + repository + ":pull"; }
std::string push_scope(const std::string& repository) { return "repository:" + repository + ":pull,push"; }

RegistryClient::RegistryClient(std::string registry, ClientOptions options, TransferStats& stats)
    : registry_(std::move(registry)), options_(std::move(options)), stats_(stats) {}

std::unique_ptr<HttpClient> RegistryClient::connect() const {
  TlsOptions tls = options_.tls;
  if (options_.insecure) tls.skip_verify = true;
  return std::make_unique<HttpClient>(tls);
}

std::string RegistryClient::base_url(HttpClient& http) {
  std::lock_guard lock(mutex_);
  if (!base_url_.empty()) return base_url_;
  std::string host = registry_ == kDockerHubDomain ? kDockerHubApiHost : registry_;
  std::string base = "https://" + host;
  HttpRequest ping;
  ping.url = base + "/v2/";
  HttpResponse response = http.perform(ping);
  ++stats_.requests;
  if (response.tls_not_spoken() && (is_loopback_host(host) || options_.insecure)) {
    base = "http://" + host;
    ping.url = base + "/v2/";
    response = http.perform(ping);
    ++stats_.requests;
  }
  if (response.transport_code != 0)
    throw Error(ErrorKind::Io, registry_, "cannot reach the registry at " + ping.url + ": " + response.transport_error,
                unreachable_fix(response));
  if (response.status == 401) challenge_ = preferred_challenge(response);
  base_url_ = base;
  return base_url_;
}

std::optional<Credentials> RegistryClient::credentials() {
  std::lock_guard lock(mutex_);
  if (!credentials_loaded_) {
    if (options_.credentials) credentials_ = options_.credentials(registry_);
    credentials_loaded_ = true;
  }
  return credentials_;
}

std::string RegistryClient::authorization(HttpClient& http, const Scopes& scopes) {
  std::optional<Challenge> challenge;
  {
    std::lock_guard lock(mutex_);
    if (!challenge_) return {};
    challenge = challenge_;
    if (challenge->scheme == "bearer") {
      if (auto it = tokens_.find(scope_key(scopes)); it != tokens_.end()) return "Bearer " + it->second;
    }
  }
  auto creds = credentials();
  if (challenge->scheme == "basic")
    return creds && !creds->username.empty() ? "Basic " + encode_auth(*creds) : std::string();
  std::lock_guard fetching(fetch_mutex_);
  {
    std::lock_guard lock(mutex_);  // another thread may have fetched it while we waited
    if (auto it = tokens_.find(scope_key(scopes)); it != tokens_.end()) return "Bearer " + it->second;
  }
  std::string token = fetch_token(http, *challenge, scopes);
  std::lock_guard lock(mutex_);
  tokens_[scope_key(scopes)] = token;
  return "Bearer " + token;
}

bool RegistryClient::answer_challenge(HttpClient& http, const HttpResponse& unauthorized, const Scopes& scopes) {
  auto challenge = preferred_challenge(unauthorized);
  if (!challenge) return false;
  {
    std::lock_guard lock(mutex_);
    challenge_ = challenge;
    tokens_.erase(scope_key(scopes));
  }
  if (challenge->scheme == "basic") {
    auto creds = credentials();
    return creds && !creds->username.empty();
  }
  Scopes wanted = scopes;
  if (auto asked = challenge->param("scope");
      !asked.empty() && std::find(wanted.begin(), wanted.end(), asked) == wanted.end())
    wanted.push_back(asked);
  std::string token = fetch_token(http, *challenge, wanted);
  std::lock_guard lock(mutex_);
  tokens_[scope_key(scopes)] = token;
  return true;
}

std::string RegistryClient::fetch_token(HttpClient& http, const Challenge& challenge, const Scopes& scopes) {
  std::string realm = challenge.param("realm");
  if (realm.empty())
    throw Error(ErrorKind::Io, registry_, "the registry asked for a bearer token without naming a realm",
                "check the registry's auth configuration");
  std::string service = challenge.param("service");
  auto creds = credentials();
  HttpRequest request;
  if (creds && !creds->identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker does with an identity token.
    std::string scope_list;
    for (const auto& scope : scopes) scope_list += (scope_list.empty() ? "" : " ") + scope;
    request.method = "POST";
    request.url = realm;
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    request.body = "grant_type=refresh_token&client_id=cog&service=" + url_encode(service) +
                   "&scope=" + url_encode(scope_list) + "&refresh_token=" + url_encode(creds->identity_token);
  } else {
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    url += "service=" + url_encode(service);
    for (const auto& scope : scopes) url += "&scope=" + url_encode(scope);
    request.url = url;
    if (creds && !creds->username.empty()) request.headers.push_back("Authorization: Basic " + encode_auth(*creds));
  }
  HttpResponse response;
  for (int attempt = 1;; ++attempt) {
    response = http.perform(request);
    ++stats_.requests;
    if (!response.retryable() || attempt >= options_.max_attempts) break;
    ++stats_.retries;
    sleep_before_retry(attempt);
  }
  if (response.transport_code != 0)
    throw Error(ErrorKind::Io, registry_, "cannot reach the token server " + realm + ": " + response.transport_error,
                unreachable_fix(response));
  if (!response.ok()) {
    auto error = registry_error(registry_, "", "getting a token from " + realm, response.status, response.body);
    throw Error(error.kind(), error.where(), error.message(),
                "log in with `cog login " + registry_ + "` (or check the credentials stored for it)");
  }
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  std::string token;
  if (json.is_object()) {
    if (json.contains("token") && json["token"].is_string()) token = json["token"];
    if (token.empty() && json.contains("access_token") && json["access_token"].is_string())
      token = json["access_token"];
  }
  if (token.empty())
    throw Error(ErrorKind::Io, registry_, "the token server " + realm + " answered without a token",
                "check the registry's auth configuration");
  return token;
}

void RegistryClient::sleep_before_retry(int attempt) const {
  auto delay = options_.retry_backoff * (1 << std::min(attempt - 1, 4));
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(8)));
}

HttpResponse RegistryClient::send(HttpClient& http, const Scopes& scopes,
                                  const std::function<HttpRequest(const std::string& base_url)>& make, bool retry) {
  bool answered = false;
  for (int attempt = 1;;) {
    std::string base = base_url(http);
    HttpRequest request = make(base);
    if (std::string auth = authorization(http, scopes); !auth.empty())
      request.headers.push_back("Authorization: " + auth);
    HttpResponse response = http.perform(request);
    ++stats_.requests;
    if (response.status == 401 && !answered) {
      answered = true;
      if (answer_challenge(http, response, scopes)) continue;
      return response;
    }
    if (retry && response.retryable() && attempt < options_.max_attempts) {
      ++stats_.retries;
      sleep_before_retry(attempt++);
      continue;
    }
    return response;
  }
}

void RegistryClient::verify_login(HttpClient& http) {
  auto response = send(http, {}, [](const std::string& base) {
    HttpRequest request;
    request.url = base + "/v2/";
    return request;
  });
  if (response.transport_code != 0)
    throw Error(ErrorKind::Io, registry_, "cannot reach the registry: " + response.transport_error,
                unreachable_fix(response));
  if (response.status == 401 || response.status == 403) {
    auto error = registry_error(registry_, "", "logging in", response.status, response.body);
    throw Error(error.kind(), error.where(), error.message(), "check the username and password");
  }
  if (!response.ok()) throw registry_error(registry_, "", "logging in", response.status, response.body);
}

}  // namespace cog::builder::registry
