#pragma once
// `cog login`: checking credentials with the registry before storing them, and Replicate's token
// login (the CLI token is exchanged for a username by the registry host's `/cog/v1/` API).
#include <string>

#include "builder/registry/client.hpp"
#include "builder/registry/docker_config.hpp"

namespace cog::builder::registry {

// Cog's default registry (`--registry` / COG_REGISTRY_HOST override it).
inline constexpr const char* kReplicateRegistryHost = "r8.im";

// GET /v2/ on `registry` with `credentials` (answering its challenge), then stores them in
// `store`. Returns where they were stored. Throws cog::Error when the registry refuses them.
std::string login_with_password(const std::string& registry, const Credentials& credentials, ClientOptions options,
                                const CredentialStore& store);

// `https://<host>` (plain `http://` for loopback hosts, where the tests run their fake).
std::string token_api_base(const std::string& host);

// GET <base>/cog/v1/display-token-url -> the URL where the user copies their CLI token.
std::string display_token_url(const std::string& base, const TlsOptions& tls);

// POST <base>/cog/v1/verify-token (form field `token`) -> the username the token belongs to.
// Rejects API tokens (`r8_…`) before asking. Throws cog::Error (`user does not exist` on 404).
std::string verify_token(const std::string& base, const std::string& token, const TlsOptions& tls);

}  // namespace cog::builder::registry
