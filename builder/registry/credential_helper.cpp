#include "builder/registry/credential_helper.hpp"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "support/error.hpp"
#include "support/subprocess.hpp"

namespace cog::builder::registry {
namespace {

Error helper_error(const std::string& program, const std::string& what) {
  return Error(ErrorKind::Runtime, "credential helper " + program, what,
               "check the `credsStore` / `credHelpers` entries of your docker config.json");
}

// `program ARGUMENT` with `input` on its stdin, output captured (the helper protocol).
cog::support::ProcessResult run_with_input(const std::string& program, const std::string& argument,
                                           const std::string& input) {
  cog::support::SpawnOptions options;
  options.stdin_data = input;
  try {
    return cog::support::run_captured({program, argument}, options);
  } catch (const Error& error) {
    throw helper_error(program, error.what());
  }
}

}  // namespace

std::optional<Credentials> helper_get(const std::string& helper, const std::string& server) {
  std::string program = "docker-credential-" + helper;
  auto result = run_with_input(program, "get", server);
  if (result.exit_code != 0) {
    // The protocol's way to say "nothing stored" is this message on stdout.
    if (result.stdout_text.find("credentials not found") != std::string::npos) return std::nullopt;
    throw helper_error(program,
                       "`get` failed: " + (result.stdout_text.empty() ? result.stderr_text : result.stdout_text));
  }
  auto json = nlohmann::json::parse(result.stdout_text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) throw helper_error(program, "`get` did not print a JSON object");
  Credentials credentials;
  std::string username = json.value("Username", "");
  std::string secret = json.value("Secret", "");
  if (username == "<token>") {
    credentials.identity_token = secret;
  } else {
    credentials.username = username;
    credentials.password = secret;
  }
  if (credentials.empty()) return std::nullopt;
  return credentials;
}

void helper_store(const std::string& helper, const std::string& server, const Credentials& credentials) {
  std::string program = "docker-credential-" + helper;
  nlohmann::json payload = {
      {"ServerURL", server}, {"Username", credentials.username}, {"Secret", credentials.password}};
  auto result = run_with_input(program, "store", payload.dump());
  if (result.exit_code != 0)
    throw helper_error(program,
                       "`store` failed: " + (result.stdout_text.empty() ? result.stderr_text : result.stdout_text));
}

}  // namespace cog::builder::registry
