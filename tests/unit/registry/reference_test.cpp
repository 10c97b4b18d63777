#include <doctest/doctest.h>

#include "builder/registry/pull.hpp"
#include "builder/registry/reference.hpp"
#include "support/error.hpp"

using cog::builder::registry::credential_key;
using cog::builder::registry::is_loopback_host;
using cog::builder::registry::parse_reference;

TEST_CASE("a bare name is a Docker Hub library image with the latest tag") {
  auto ref = parse_reference("python");
  CHECK(ref.registry == "docker.io");
  CHECK(ref.repository == "library/python");
  CHECK(ref.tag == "latest");
  CHECK(ref.digest.empty());
  CHECK(ref.api_host() == "registry-1.docker.io");
  CHECK(ref.str() == "docker.io/library/python:latest");
}

TEST_CASE("Docker Hub user repositories keep their owner") {
  auto ref = parse_reference("user/model:v1");
  CHECK(ref.registry == "docker.io");
  CHECK(ref.repository == "user/model");
  CHECK(ref.tag == "v1");
  CHECK(parse_reference("index.docker.io/library/python:3.12").registry == "docker.io");
}

TEST_CASE("a registry with a port is not mistaken for a tag") {
  auto ref = parse_reference("localhost:5000/team/model");
  CHECK(ref.registry == "localhost:5000");
  CHECK(ref.repository == "team/model");
  CHECK(ref.tag == "latest");
  CHECK(ref.is_loopback());

  auto tagged = parse_reference("127.0.0.1:41000/model:v2");
  CHECK(tagged.registry == "127.0.0.1:41000");
  CHECK(tagged.tag == "v2");
  CHECK(tagged.api_host() == "127.0.0.1:41000");
}

TEST_CASE("r8.im references") {
  auto ref = parse_reference("r8.im/owner/model");
  CHECK(ref.registry == "r8.im");
  CHECK(ref.repository == "owner/model");
  CHECK_FALSE(ref.is_loopback());
}

TEST_CASE("digests pin a reference, with or without a tag") {
  std::string digest = "sha256:" + std::string(64, 'a');
  auto pinned = parse_reference("ghcr.io/o/r@" + digest);
  CHECK(pinned.tag.empty());
  CHECK(pinned.digest == digest);
  CHECK(pinned.manifest_reference() == digest);

  auto both = parse_reference("ghcr.io/o/r:1.0@" + digest);
  CHECK(both.tag == "1.0");
  CHECK(both.str() == "ghcr.io/o/r:1.0@" + digest);
}

TEST_CASE("invalid references are rejected with a validation error") {
  for (const char* text :
       {"", "Python", "a//b", "repo:", "repo:-bad", "repo@sha256:abc", "host:5000/", "x/-y", "a..b"}) {
    CAPTURE(text);
    try {
      parse_reference(text);
      FAIL("accepted");
    } catch (const cog::Error& error) {
      CHECK(error.kind() == cog::ErrorKind::Validation);
    }
  }
  CHECK_NOTHROW(parse_reference("a__b/c.d-e_f:Tag_1.0-x"));
}

TEST_CASE("loopback hosts") {
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("127.0.0.1:5000"));
  CHECK(is_loopback_host("[::1]:5000"));
  CHECK_FALSE(is_loopback_host("r8.im"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
}

TEST_CASE("credential keys follow docker's spelling") {
  CHECK(credential_key("docker.io") == "https://index.docker.io/v1/");
  CHECK(credential_key("https://index.docker.io/v1/") == "https://index.docker.io/v1/");
  CHECK(credential_key("https://r8.im") == "r8.im");
  CHECK(credential_key("localhost:5000") == "localhost:5000");
}

TEST_CASE("only names that say their registry are pulled by cog run") {
  using cog::builder::registry::names_a_registry;
  CHECK(names_a_registry("localhost:5000/me/model"));
  CHECK(names_a_registry("127.0.0.1:5000/me/model:v1"));
  CHECK(names_a_registry("r8.im/owner/model"));
  CHECK(names_a_registry("localhost/model"));
  CHECK(names_a_registry("[::1]:5000/model"));
  CHECK_FALSE(names_a_registry("hello"));
  CHECK_FALSE(names_a_registry("hello:latest"));
  CHECK_FALSE(names_a_registry("me/model"));
}
