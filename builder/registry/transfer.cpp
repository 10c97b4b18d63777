#include "builder/registry/transfer.hpp"

#include <cstdlib>

#include "builder/registry/docker_config.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

std::int64_t positive_env(const char* name, std::int64_t fallback) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  char* end = nullptr;
  long long parsed = std::strtoll(value, &end, 10);
  if (*end != '\0' || parsed <= 0)
    throw Error(ErrorKind::Usage, name, std::string("'") + value + "' is not a positive number",
                "unset it or give a whole number");
  return parsed;
}

}  // namespace

TransferOptions transfer_options_from_environment() {
  TransferOptions options;
  options.concurrency = static_cast<int>(positive_env("COG_PUSH_CONCURRENCY", options.concurrency));
  options.chunk_size = positive_env("COG_PUSH_DEFAULT_CHUNK_SIZE", options.chunk_size);
  options.multipart_threshold = positive_env("COG_PUSH_MULTIPART_THRESHOLD", options.multipart_threshold);
  if (const char* ca = std::getenv("COG_REGISTRY_CA_BUNDLE"); ca && *ca) options.client.tls.ca_bundle = ca;
  options.client.credentials = [](const std::string& registry) { return CredentialStore().lookup(registry); };
  return options;
}

oci::Platform parse_platform(const std::string& text) {
  oci::Platform platform;
  auto first = text.find('/');
  if (first == std::string::npos || first == 0 || first + 1 == text.size())
    throw Error(ErrorKind::Usage, "--platform", "'" + text + "' is not os/architecture[/variant]",
                "for example linux/amd64");
  platform.os = text.substr(0, first);
  std::string rest = text.substr(first + 1);
  if (auto second = rest.find('/'); second != std::string::npos) {
    platform.architecture = rest.substr(0, second);
    platform.variant = rest.substr(second + 1);
  } else {
    platform.architecture = rest;
  }
  return platform;
}

}  // namespace cog::builder::registry
