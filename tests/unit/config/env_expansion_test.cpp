// Docker's ENV substitution, as cog.yaml's `environment` values get it in Cog's images.
#include <doctest/doctest.h>

#include <map>

#include "builder/config/env_expansion.hpp"
#include "builder/config/load.hpp"
#include "support/error.hpp"

using namespace cog::builder::config;

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

TEST_CASE("cog.yaml: an environment value Docker could not expand is an error at its line") {
  const std::string yaml = "build:\n  python_version: \"3.11\"\nenvironment:\n  - OK=$HOME\n  - BAD=${HOME\n";
  try {
    cog::builder::config::load_config_text(yaml, "cog.yaml");
    FAIL("expected an error");
  } catch (const cog::Errors& errors) {
    REQUIRE(errors.all().size() == 1);
    CHECK(errors.all()[0].describe().find("cog.yaml:5") != std::string::npos);
    CHECK(errors.all()[0].describe().find("environment variable \"BAD\"") != std::string::npos);
  } catch (const cog::Error& error) {
    CHECK(error.describe().find("cog.yaml:5") != std::string::npos);
    CHECK(error.describe().find("environment variable \"BAD\"") != std::string::npos);
  }
}
