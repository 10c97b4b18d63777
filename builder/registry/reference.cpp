#include "builder/registry/reference.hpp"

#include <cctype>

#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

Error invalid(const std::string& text, const std::string& why) {
  return Error(ErrorKind::Validation, "image reference '" + text + "'", why,
               "write it as [registry/]repository[:tag][@sha256:<digest>], in lower case");
}

bool is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: lower-case alphanumerics joined by `.`, `_`, `__` or runs of `-`.
bool valid_component(const std::string& part) {
  if (part.empty() || !is_alnum_lower(part.front()) || !is_alnum_lower(part.back())) return false;
  for (size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (is_alnum_lower(c) || c == '-') continue;
    if (c == '.' || c == '_') {
      bool double_underscore = c == '_' && i + 1 < part.size() && part[i + 1] == '_';
      if (double_underscore) ++i;
      if (!is_alnum_lower(part[i + 1])) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool valid_tag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag.front())) return false;
  for (char c : tag)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

bool valid_digest(const std::string& digest) {
  auto colon = digest.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string algorithm = digest.substr(0, colon), hex = digest.substr(colon + 1);
  if (hex.empty()) return false;
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  return algorithm != "sha256" || hex.size() == 64;
}

// Docker's rule: the first component is a registry when it looks like a host name.
bool looks_like_registry(const std::string& part) {
  return part.find('.') != std::string::npos || part.find(':') != std::string::npos || part == "localhost" ||
         part.front() == '[';
}

std::string host_without_port(const std::string& host) {
  if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
  auto colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

}  // namespace

std::string Reference::api_host() const { return registry == kDockerHubDomain ? kDockerHubApiHost : registry; }

std::string Reference::manifest_reference() const { return tag.empty() ? digest : tag; }

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string text = name();
  if (!tag.empty()) text += ":" + tag;
  if (!digest.empty()) text += "@" + digest;
  return text;
}

bool Reference::is_loopback() const { return is_loopback_host(registry); }

bool is_loopback_host(const std::string& host) {
  std::string bare = host_without_port(host);
  return bare == "localhost" || bare == "::1" || bare.starts_with("127.");
}

Reference parse_reference(const std::string& text) {
  if (text.empty()) throw invalid(text, "it is empty");
  Reference ref;
  std::string rest = text;
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!valid_digest(ref.digest)) throw invalid(text, "'" + ref.digest + "' is not a valid digest");
  }
  auto last_slash = rest.rfind('/');
  if (auto colon = rest.rfind(':');
      colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (!valid_tag(ref.tag)) throw invalid(text, "'" + ref.tag + "' is not a valid tag");
  }
  if (rest.empty()) throw invalid(text, "the repository name is missing");

  auto first_slash = rest.find('/');
  if (first_slash != std::string::npos && looks_like_registry(rest.substr(0, first_slash))) {
    ref.registry = rest.substr(0, first_slash);
    ref.repository = rest.substr(first_slash + 1);
  } else {
    ref.registry = kDockerHubDomain;
    ref.repository = rest;
  }
  if (ref.registry == "index.docker.io" || ref.registry == kDockerHubApiHost) ref.registry = kDockerHubDomain;
  if (ref.registry == kDockerHubDomain && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;

  size_t start = 0;
  while (true) {
    auto end = ref.repository.find('/', start);
    std::string part = ref.repository.substr(start, end == std::string::npos ? end : end - start);
    if (!valid_component(part)) throw invalid(text, "'" + part + "' is not a valid repository name component");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (ref.registry.size() + 1 + ref.repository.size() > 255)
    throw invalid(text, "the name is longer than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string credential_key(const std::string& registry) {
  std::string host = registry;
  if (auto scheme = host.find("://"); scheme != std::string::npos) host = host.substr(scheme + 3);
  if (auto slash = host.find('/'); slash != std::string::npos) host.resize(slash);
  if (host == kDockerHubDomain || host == "index.docker.io" || host == kDockerHubApiHost)
    return "https://index.docker.io/v1/";
  return host;
}

}  // namespace cog::builder::registry
