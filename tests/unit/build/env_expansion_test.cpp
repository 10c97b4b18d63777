// Docker's ENV substitution, as cog.yaml's `environment` values get it in Cog's images.
#include <doctest/doctest.h>

#include <map>

#include "builder/build/env_expansion.hpp"
#include "builder/support/error.hpp"

using namespace cog::builder::build;

namespace {

std::string expand(std::string_view value) {
  const std::map<std::string, std::string> set = {{"PATH", "/usr/bin:/bin"}, {"EMPTY", ""}, {"HOME_DIR", "/root"}};
  return expand_env_value(
      value,
      [&](const std::string& name) -> std::optional<std::string> {
        auto found = set.find(name);
        return found == set.end() ? std::nullopt : std::optional<std::string>(found->second);
      },
      "environment: X");
}

}  // namespace

TEST_CASE("names, braces and defaults expand as Docker's ENV does") {
  CHECK(expand("/opt/tool/bin:$PATH") == "/opt/tool/bin:/usr/bin:/bin");
  CHECK(expand("${HOME_DIR}/models") == "/root/models");
  CHECK(expand("$HOME_DIRx") == "");  // the longest name, unset
  CHECK(expand("${UNSET:-fallback}") == "fallback");
  CHECK(expand("${EMPTY:-fallback}") == "fallback");
  CHECK(expand("${PATH:+has path}") == "has path");
  CHECK(expand("${UNSET:+x}").empty());
  CHECK(expand("a$UNSET-b") == "a-b");
}

TEST_CASE("what is not a substitution stays as written") {
  CHECK(expand("price: \\$5") == "price: $5");
  CHECK(expand("cost $5 and $") == "cost $5 and $");
  CHECK(expand("C:\\models\\x") == "C:\\models\\x");
  CHECK(expand("plain") == "plain");
  CHECK(expand("").empty());
}

TEST_CASE("a ${ without } or an unknown operator is an error naming the variable") {
  CHECK_THROWS_WITH_AS(expand("${PATH"), doctest::Contains("environment: X"), cog::Error);
  CHECK_THROWS_WITH_AS(expand("${PATH%%:*}"), doctest::Contains("is not a substitution"), cog::Error);
}
