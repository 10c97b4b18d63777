#pragma once
// `WWW-Authenticate` challenges (RFC 7235) as registries send them on 401.
#include <map>
#include <string>
#include <vector>

namespace cog::builder::registry {

struct Challenge {
  std::string scheme;                         // lower case: `bearer`, `basic`
  std::map<std::string, std::string> params;  // lower-case keys: `realm`, `service`, `scope`, `error`

  std::string param(const std::string& key) const;
};

// Parses every challenge in a header value, e.g.
// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
// Unparseable text yields fewer challenges, never an exception.
std::vector<Challenge> parse_challenges(const std::string& header);

}  // namespace cog::builder::registry
