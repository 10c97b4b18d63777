#pragma once
// Docker credential helpers: `docker-credential-<name> get|store|erase`, talking JSON over stdio.
#include <optional>
#include <string>

namespace cog::builder::registry {

struct Credentials {
  std::string username;
  std::string password;        // or a registry token
  std::string identity_token;  // an OAuth2 refresh token (`identitytoken`, helper user `<token>`)

  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

// Runs `docker-credential-<helper> get` for `server`. nullopt when the helper knows no credentials
// for it; throws cog::Error when the helper is missing or fails otherwise.
std::optional<Credentials> helper_get(const std::string& helper, const std::string& server);

// Runs `docker-credential-<helper> store`. Throws cog::Error on failure.
void helper_store(const std::string& helper, const std::string& server, const Credentials& credentials);

}  // namespace cog::builder::registry
