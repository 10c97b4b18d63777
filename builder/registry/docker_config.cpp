#include "builder/registry/docker_config.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "builder/registry/reference.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

// Finds the object member whose key names the same registry as `registry`.
const nlohmann::json* find_by_registry(const nlohmann::json& object, const std::string& registry) {
  if (!object.is_object()) return nullptr;
  std::string wanted = credential_key(registry);
  if (auto it = object.find(registry); it != object.end()) return &*it;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (credential_key(it.key()) == wanted) return &*it;
  return nullptr;
}

std::string base64_decode(const std::string& text) {
  std::string clean;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) return {};
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return {};
  size_t padding = 0;
  while (padding < 2 && clean.size() > padding && clean[clean.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string base64_encode(const std::string& text) {
  std::string out((text.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

void write_private_file(const std::filesystem::path& path, const std::string& content) {
  std::error_code ignored;
  std::filesystem::create_directories(path.parent_path(), ignored);
  std::filesystem::path temporary = path;
  temporary += ".tmp" + std::to_string(getpid());
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  size_t written = 0;
  while (ok && written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  if (fd >= 0) ok = (fchmod(fd, 0600) == 0) && (close(fd) == 0) && ok;
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::filesystem::remove(temporary, ignored);
    throw Error(ErrorKind::Io, path.string(), "cannot write the docker config: " + reason,
                "check the permissions of the directory, or set DOCKER_CONFIG");
  }
}

}  // namespace

std::filesystem::path default_docker_config_dir() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".docker";
}

std::string helper_for(const nlohmann::json& config, const std::string& registry) {
  if (!config.is_object()) return {};
  if (auto helpers = config.find("credHelpers"); helpers != config.end()) {
    if (const auto* helper = find_by_registry(*helpers, registry); helper && helper->is_string())
      return helper->get<std::string>();
  }
  if (auto store = config.find("credsStore"); store != config.end() && store->is_string())
    return store->get<std::string>();
  return {};
}

std::optional<Credentials> inline_credentials(const nlohmann::json& config, const std::string& registry) {
  if (!config.is_object() || !config.contains("auths")) return std::nullopt;
  const auto* entry = find_by_registry(config["auths"], registry);
  if (!entry || !entry->is_object()) return std::nullopt;
  Credentials credentials;
  if (auto auth = entry->value("auth", std::string()); !auth.empty()) {
    credentials = decode_auth(auth);
  } else {
    credentials.username = entry->value("username", std::string());
    credentials.password = entry->value("password", std::string());
  }
  credentials.identity_token = entry->value("identitytoken", std::string());
  if (credentials.empty()) return std::nullopt;
  return credentials;
}

std::string encode_auth(const Credentials& credentials) {
  return base64_encode(credentials.username + ":" + credentials.password);
}

Credentials decode_auth(const std::string& auth) {
  std::string plain = base64_decode(auth);
  auto colon = plain.find(':');
  if (colon == std::string::npos)
    throw Error(ErrorKind::Parse, "docker config.json", "an `auth` entry is not base64 of `user:password`",
                "log in again with `cog login`");
  return Credentials{plain.substr(0, colon), plain.substr(colon + 1), {}};
}

CredentialStore::CredentialStore(std::filesystem::path config_dir)
    : config_path_(std::move(config_dir) / "config.json") {}

nlohmann::json CredentialStore::read_config() const {
  std::ifstream in(config_path_);
  if (!in) return nlohmann::json::object();
  std::stringstream text;
  text << in.rdbuf();
  auto config = nlohmann::json::parse(text.str(), nullptr, false);
  if (config.is_discarded() || !config.is_object())
    throw Error(ErrorKind::Parse, config_path_.string(), "not a JSON object",
                "fix or remove the file, then log in again");
  return config;
}

std::optional<Credentials> CredentialStore::lookup(const std::string& registry) const {
  auto config = read_config();
  std::string key = credential_key(registry);
  if (auto helper = helper_for(config, registry); !helper.empty()) {
    if (auto found = helper_get(helper, key)) return found;
    // Helpers are keyed by whatever was passed to `login`: try the bare host too.
    if (key != registry)
      if (auto found = helper_get(helper, registry)) return found;
  }
  return inline_credentials(config, registry);
}

std::string CredentialStore::save(const std::string& registry, const Credentials& credentials) const {
  auto config = read_config();
  std::string key = credential_key(registry);
  if (auto helper = helper_for(config, registry); !helper.empty()) {
    helper_store(helper, key, credentials);
    return "credential helper docker-credential-" + helper;
  }
  auto& auths = config["auths"];
  if (!auths.is_object()) auths = nlohmann::json::object();
  for (auto it = auths.begin(); it != auths.end();) {  // one entry per registry
    if (credential_key(it.key()) == key && it.key() != key)
      it = auths.erase(it);
    else
      ++it;
  }
  auths[key] = {{"auth", encode_auth(credentials)}};
  write_private_file(config_path_, config.dump(1, '\t') + "\n");
  return config_path_.string();
}

}  // namespace cog::builder::registry
