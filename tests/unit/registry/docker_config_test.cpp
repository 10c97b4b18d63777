#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "builder/registry/docker_config.hpp"

using namespace cog::builder::registry;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("cog-registry-test-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("auth entries decode, whatever spelling the key has") {
  auto config = nlohmann::json::parse(R"({"auths":{
    "https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
    "http://localhost:5000/v2/":{"auth":"YWxpY2U6c2VjcmV0"},
    "r8.im":{"auth":"cjg6dG9rZW4=","identitytoken":"refresh"}}})");
  auto hub = inline_credentials(config, "docker.io");
  REQUIRE(hub);
  CHECK(hub->username == "user");
  CHECK(hub->password == "pa:ss");
  auto local = inline_credentials(config, "localhost:5000");
  REQUIRE(local);
  CHECK(local->username == "alice");
  CHECK(local->password == "secret");
  CHECK(inline_credentials(config, "r8.im")->identity_token == "refresh");
  CHECK_FALSE(inline_credentials(config, "ghcr.io"));
}

TEST_CASE("credHelpers win over credsStore, which wins over auths") {
  auto config = nlohmann::json::parse(R"({"credsStore":"desktop","credHelpers":{"r8.im":"r8"}})");
  CHECK(helper_for(config, "r8.im") == "r8");
  CHECK(helper_for(config, "ghcr.io") == "desktop");
  CHECK(helper_for(nlohmann::json::object(), "ghcr.io").empty());
}

TEST_CASE("encode and decode are inverse, malformed auth is an error") {
  Credentials credentials{"bob", "p@ss:word", {}};
  auto round_trip = decode_auth(encode_auth(credentials));
  CHECK(round_trip.username == "bob");
  CHECK(round_trip.password == "p@ss:word");
  CHECK_THROWS(decode_auth("bm9jb2xvbg=="));  // "nocolon"
}

TEST_CASE("saving writes a 0600 config.json and keeps unrelated fields") {
  auto dir = fresh_dir("save");
  write_file(dir / "config.json", R"({"auths":{"http://localhost:5000":{"auth":"b2xkOm9sZA=="}},"psFormat":"x"})");
  CredentialStore store(dir);
  store.save("localhost:5000", Credentials{"alice", "secret", {}});
  struct stat info {};
  REQUIRE(stat((dir / "config.json").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  std::ifstream in(dir / "config.json");
  auto saved = nlohmann::json::parse(in);
  CHECK(saved["psFormat"] == "x");
  CHECK(saved["auths"].size() == 1);
  auto found = store.lookup("localhost:5000");
  REQUIRE(found);
  CHECK(found->username == "alice");
  CHECK_FALSE(store.lookup("other:5000"));
  fs::remove_all(dir);
}

TEST_CASE("a credential helper is asked with the registry on stdin") {
  auto dir = fresh_dir("helper");
  auto bin = dir / "bin";
  fs::create_directories(bin);
  write_file(bin / "docker-credential-fake",
             "#!/bin/sh\n"
             "read server\n"
             "if [ \"$1\" = get ] && [ \"$server\" = registry.test ]; then\n"
             "  echo '{\"ServerURL\":\"registry.test\",\"Username\":\"helper-user\",\"Secret\":\"helper-secret\"}'\n"
             "  exit 0\nfi\n"
             "echo 'credentials not found in native keychain'; exit 1\n");
  fs::permissions(bin / "docker-credential-fake", fs::perms::owner_all);
  write_file(dir / "config.json", R"({"credHelpers":{"registry.test":"fake"}})");
  std::string old_path = std::getenv("PATH");
  setenv("PATH", (bin.string() + ":" + old_path).c_str(), 1);
  CredentialStore store(dir);
  auto found = store.lookup("registry.test");
  REQUIRE(found);
  CHECK(found->username == "helper-user");
  CHECK(found->password == "helper-secret");
  setenv("PATH", old_path.c_str(), 1);
  fs::remove_all(dir);
}
