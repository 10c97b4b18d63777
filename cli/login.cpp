// cog login [REGISTRY]: Replicate's token login for the Replicate registry host, docker-style
// username/password for any other registry. Credentials are checked before they are stored.
#include <cstdlib>
#include <iostream>

#include "builder/registry/docker_config.hpp"
#include "builder/registry/login.hpp"
#include "cli/terminal.hpp"
#include "support/error.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

struct LoginFlags {
  std::string registry;
  std::string replicate_host;
  std::string username;
  bool password_stdin = false;
  bool token_stdin = false;
  bool insecure = false;
  std::string ca_bundle;
};

void token_login(const std::string& host, const LoginFlags& flags, const builder::registry::TlsOptions& tls) {
  namespace registry = builder::registry;
  std::string base = registry::token_api_base(host);
  std::string token;
  if (flags.token_stdin) {
    token = read_stdin_secret();
  } else {
    std::cerr << "This command will authenticate Docker with Replicate's '" << host
              << "' Docker registry. You will need a Replicate account.\n\n";
    std::string url = registry::display_token_url(base, tls);
    prompt_line("Hit enter to get started. Open this page in your browser: " + url + "\n");
    token =
        prompt_secret("Once you've signed in, copy the authentication token from that web page, and paste it here: ");
  }
  if (token.empty())
    throw cog::Error(cog::ErrorKind::Usage, "cog login", "no token was given", "paste the token from the web page");
  std::string username = registry::verify_token(base, token, tls);
  registry::CredentialStore().save(host, registry::Credentials{username, token, {}});
  std::cerr << "You've successfully authenticated as " << username << "! You can now use the '" << host
            << "' registry.\n";
}

void password_login(const std::string& host, const LoginFlags& flags, const builder::registry::TlsOptions& tls) {
  namespace registry = builder::registry;
  registry::Credentials credentials;
  credentials.username = flags.username.empty() ? prompt_line("Username: ") : flags.username;
  credentials.password = flags.password_stdin ? read_stdin_secret() : prompt_secret("Password: ");
  if (credentials.username.empty() || credentials.password.empty())
    throw cog::Error(cog::ErrorKind::Usage, "cog login", "a username and a password are both needed",
                     "pass -u USER and the password on stdin with --password-stdin, or answer the prompts");
  registry::ClientOptions options;
  options.tls = tls;
  options.insecure = flags.insecure;
  std::string stored = registry::login_with_password(host, credentials, options, registry::CredentialStore());
  std::cerr << "You've successfully authenticated as " << credentials.username << "! You can now use the '" << host
            << "' registry.\n(credentials stored in " << stored << ")\n";
}

}  // namespace

void add_login_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto flags = std::make_shared<LoginFlags>();
  auto* login = app.add_subcommand("login", "Log in to a container registry");
  login->add_option("REGISTRY", flags->registry, "Registry host (default: the Replicate registry)");
  login->add_option("-u,--username", flags->username, "Username (skips the Replicate token login)");
  login->add_flag("--password-stdin", flags->password_stdin, "Read the password from stdin");
  login->add_flag("--token-stdin", flags->token_stdin, "Pass login token on stdin instead of opening a browser");
  login->add_option("--registry", flags->replicate_host, "Replicate registry host")->group("");
  login->add_flag("--insecure", flags->insecure, "Allow plain HTTP and unverified TLS to the registry");
  login->add_option("--ca-bundle", flags->ca_bundle, "PEM file of CAs to trust (default: $COG_REGISTRY_CA_BUNDLE)");
  login->callback([flags] {
    std::string replicate_host = flags->replicate_host;
    if (replicate_host.empty())
      replicate_host = std::getenv("COG_REGISTRY_HOST") ? std::getenv("COG_REGISTRY_HOST")
                                                        : builder::registry::kReplicateRegistryHost;
    std::string host = flags->registry.empty() ? replicate_host : flags->registry;
    builder::registry::TlsOptions tls;
    tls.ca_bundle = flags->ca_bundle;
    if (tls.ca_bundle.empty() && std::getenv("COG_REGISTRY_CA_BUNDLE"))
      tls.ca_bundle = std::getenv("COG_REGISTRY_CA_BUNDLE");
    tls.skip_verify = flags->insecure;
    bool token_flow =
        flags->token_stdin || (host == replicate_host && flags->username.empty() && !flags->password_stdin);
    if (token_flow)
      token_login(host, *flags, tls);
    else
      password_login(host, *flags, tls);
  });
}

}  // namespace cog::cli
