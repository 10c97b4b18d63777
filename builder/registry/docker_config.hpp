#pragma once
// Docker's client config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): where
// registry credentials live, either inline (`auths`) or behind a credential helper.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "builder/registry/credential_helper.hpp"

namespace cog::builder::registry {

// `$DOCKER_CONFIG` when set, else `$HOME/.docker`.
std::filesystem::path default_docker_config_dir();

// The helper (`desktop`, `pass`, ...) that holds credentials for `registry`: `credHelpers` first,
// then `credsStore`; empty when credentials are stored inline.
std::string helper_for(const nlohmann::json& config, const std::string& registry);

// The inline `auths` entry for `registry` (base64 `auth`, or `username`/`password`, plus
// `identitytoken`), matching keys written with or without scheme and path.
std::optional<Credentials> inline_credentials(const nlohmann::json& config, const std::string& registry);

// `user:pass` base64 as docker writes it, and back. decode throws cog::Error on malformed input.
std::string encode_auth(const Credentials& credentials);
Credentials decode_auth(const std::string& auth);

class CredentialStore {
 public:
  explicit CredentialStore(std::filesystem::path config_dir = default_docker_config_dir());

  // Credentials for `registry` (a host as in a reference), nullopt for anonymous access.
  std::optional<Credentials> lookup(const std::string& registry) const;
  // Saves credentials (helper `store`, else config.json with mode 0600); returns where they went.
  std::string save(const std::string& registry, const Credentials& credentials) const;

  const std::filesystem::path& config_path() const { return config_path_; }

 private:
  nlohmann::json read_config() const;
  std::filesystem::path config_path_;
};

}  // namespace cog::builder::registry
