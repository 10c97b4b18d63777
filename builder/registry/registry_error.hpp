#pragma once
// Turning a registry's error response into a cog::Error that says who refused what, and why.
#include <string>
#include <vector>

#include "support/error.hpp"

namespace cog::builder::registry {

// One entry of the distribution spec's `{"errors":[{"code","message","detail"}]}` body.
struct RegistryErrorEntry {
  std::string code;     // `UNAUTHORIZED`, `DENIED`, `MANIFEST_UNKNOWN`, `TOOMANYREQUESTS`...
  std::string message;  // the registry's own words
};

// The entries of an error body; empty when the body is not the spec's JSON.
std::vector<RegistryErrorEntry> parse_registry_errors(const std::string& body);

// `<registry>/<repository>: <action> failed: HTTP 403: DENIED: requested access to the resource is
// denied — <a hint chosen from the status and codes>`.
Error registry_error(const std::string& registry, const std::string& repository, const std::string& action, long status,
                     const std::string& body);

}  // namespace cog::builder::registry
