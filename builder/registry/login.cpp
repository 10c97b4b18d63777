#include "builder/registry/login.hpp"

#include <nlohmann/json.hpp>

#include "builder/registry/reference.hpp"
#include "builder/registry/registry_error.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

nlohmann::json json_answer(const HttpResponse& response, const std::string& url, const std::string& action) {
  if (response.transport_code != 0)
    throw Error(ErrorKind::Io, url, "cannot " + action + ": " + response.transport_error,
                "check your network and the registry host");
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (!response.ok() || !json.is_object()) {
    std::string detail = json.is_object() && json.contains("detail") && json["detail"].is_string()
                             ? json["detail"].get<std::string>()
                             : response.body.substr(0, 200);
    throw Error(ErrorKind::Io, url, "cannot " + action + ": HTTP " + std::to_string(response.status) + ": " + detail,
                "try again later");
  }
  return json;
}

}  // namespace

std::string login_with_password(const std::string& registry, const Credentials& credentials, ClientOptions options,
                                const CredentialStore& store) {
  options.credentials = [credentials](const std::string&) { return std::optional<Credentials>(credentials); };
  options.max_attempts = 2;
  TransferStats stats;
  RegistryClient client(registry == "https://index.docker.io/v1/" ? kDockerHubDomain : registry, options, stats);
  auto http = client.connect();
  try {
    client.verify_login(*http);
  } catch (const Error& error) {
    throw Error(error.kind(), error.where(), error.message(), "check the username and password (nothing was stored)");
  }
  return store.save(registry, credentials);
}

std::string token_api_base(const std::string& host) { return (is_loopback_host(host) ? "http://" : "https://") + host; }

std::string display_token_url(const std::string& base, const TlsOptions& tls) {
  HttpClient http(tls);
  HttpRequest request;
  request.url = base + "/cog/v1/display-token-url";
  auto json = json_answer(http.perform(request), request.url, "get the token URL");
  if (!json.contains("url") || !json["url"].is_string())
    throw Error(ErrorKind::Io, request.url, "the answer has no `url`", "try again later");
  return json["url"];
}

std::string verify_token(const std::string& base, const std::string& token, const TlsOptions& tls) {
  if (token.starts_with("r8_"))
    throw Error(ErrorKind::Validation, "cog login",
                "that looks like an API token (it starts with r8_), not a CLI token",
                "copy the CLI token from the page `cog login` opens");
  HttpClient http(tls);
  HttpRequest request;
  request.method = "POST";
  request.url = base + "/cog/v1/verify-token";
  request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  request.body = "token=" + url_encode(token);
  auto response = http.perform(request);
  if (response.status == 404)
    throw Error(ErrorKind::NotFound, base, "user does not exist", "check the token you pasted");
  auto json = json_answer(response, request.url, "verify the token");
  if (!json.contains("username") || !json["username"].is_string())
    throw Error(ErrorKind::Io, request.url, "the answer has no `username`", "try again later");
  return json["username"];
}

}  // namespace cog::builder::registry
