#include <doctest/doctest.h>

#include "builder/registry/challenge.hpp"
#include "builder/registry/registry_error.hpp"

using namespace cog::builder::registry;

TEST_CASE("a bearer challenge with realm, service and scope") {
  auto challenges = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull")");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "bearer");
  CHECK(challenges[0].param("realm") == "https://auth.docker.io/token");
  CHECK(challenges[0].param("service") == "registry.docker.io");
  CHECK(challenges[0].param("scope") == "repository:library/python:pull");
  CHECK(challenges[0].param("missing").empty());
}

TEST_CASE("scheme and keys are case-insensitive, values keep their case, escapes and spaces") {
  auto challenges = parse_challenges(R"(BASIC  Realm = "My \"Registry\"" , charset=UTF-8)");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "basic");
  CHECK(challenges[0].param("realm") == R"(My "Registry")");
  CHECK(challenges[0].param("charset") == "UTF-8");
}

TEST_CASE("several challenges in one header, and an insufficient-scope error") {
  auto challenges = parse_challenges(
      R"(Bearer realm="https://a/token",error="insufficient_scope",scope="repository:x:pull,push", Basic realm="b")");
  REQUIRE(challenges.size() == 2);
  CHECK(challenges[0].param("error") == "insufficient_scope");
  CHECK(challenges[0].param("scope") == "repository:x:pull,push");
  CHECK(challenges[1].scheme == "basic");
  CHECK(challenges[1].param("realm") == "b");
}

TEST_CASE("garbage does not throw") {
  CHECK(parse_challenges("").empty());
  CHECK_NOTHROW(parse_challenges("Bearer realm=\"unterminated"));
  CHECK_NOTHROW(parse_challenges("=,=,\"\""));
}

TEST_CASE("registry error bodies are named in the message") {
  auto error =
      registry_error("localhost:5000", "team/model", "pushing the manifest", 403,
                     R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})");
  CHECK(error.where() == "localhost:5000/team/model");
  CHECK(error.message().find("HTTP 403") != std::string::npos);
  CHECK(error.message().find("DENIED: requested access to the resource is denied") != std::string::npos);
  CHECK_FALSE(error.fix().empty());

  auto unknown = registry_error("r8.im", "o/m", "reading the manifest", 404,
                                R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
  CHECK(unknown.kind() == cog::ErrorKind::NotFound);
  CHECK(parse_registry_errors("not json").empty());
}
