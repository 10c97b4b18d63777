#include <doctest/doctest.h>

#include <map>
#include <string>

#include "builder/registry/pull.hpp"
#include "builder/registry/push_target.hpp"
#include "builder/registry/transfer.hpp"
#include "support/error.hpp"

using namespace cog::builder::registry;

namespace {

PushTargetInputs inputs(std::string argument, std::string image, std::string model,
                        std::map<std::string, std::string> env = {}) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(env));
  return PushTargetInputs{std::move(argument), std::move(image), std::move(model),
                          [shared](const char* name) -> const char* {
                            auto it = shared->find(name);
                            return it == shared->end() ? nullptr : it->second.c_str();
                          }};
}

}  // namespace

TEST_CASE("the argument wins over cog.yaml's image") {
  CHECK(resolve_push_target(inputs("r8.im/a/b", "r8.im/c/d", "")).str() == "r8.im/a/b:latest");
  CHECK(resolve_push_target(inputs("", "r8.im/c/d:v2", "")).str() == "r8.im/c/d:v2");
}

TEST_CASE("no target is Cog's error") {
  try {
    resolve_push_target(inputs("", "", ""));
    FAIL("no error");
  } catch (const cog::Error& error) {
    CHECK(error.kind() == cog::ErrorKind::Usage);
    CHECK(error.message().find("To push images, you must either set the 'image' option") == 0);
  }
}

TEST_CASE("with model, the argument is refused and COG_MODEL_* adjust the reference") {
  CHECK_THROWS_AS(resolve_push_target(inputs("r8.im/a/b", "", "r8.im/o/m")), cog::Error);
  CHECK(resolve_push_target(inputs("", "", "r8.im/o/m")).str() == "r8.im/o/m:latest");
  auto adjusted = resolve_push_target(
      inputs("", "", "r8.im/o/m",
             {{"COG_MODEL_REGISTRY", "localhost:5000"}, {"COG_MODEL_REPO", "x/y"}, {"COG_MODEL_TAG", "v3"}}));
  CHECK(adjusted.str() == "localhost:5000/x/y:v3");
  CHECK(resolve_push_target(inputs("", "", "r8.im/o/m", {{"COG_MODEL", "ghcr.io/p/q:t"}})).str() == "ghcr.io/p/q:t");
  CHECK_THROWS_AS(resolve_push_target(inputs("", "", "r8.im/o/m", {{"COG_MODEL_TAG", "cog-internal"}})), cog::Error);
}

TEST_CASE("platforms parse and select from an index") {
  auto platform = parse_platform("linux/arm64/v8");
  CHECK(platform.os == "linux");
  CHECK(platform.architecture == "arm64");
  CHECK(platform.variant == "v8");
  CHECK_THROWS_AS(parse_platform("amd64"), cog::Error);

  std::string a(64, 'a'), b(64, 'b');
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                      a + R"(","size":1,
     "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                      b + R"(","size":2,
     "platform":{"os":"linux","architecture":"amd64"}}]})";
  CHECK(select_platform(index, parse_platform("linux/amd64"), "x").digest.hex == b);
  CHECK(select_platform(index, parse_platform("linux/arm64"), "x").digest.hex == a);
  try {
    select_platform(index, parse_platform("linux/riscv64"), "img");
    FAIL("no error");
  } catch (const cog::Error& error) {
    CHECK(error.kind() == cog::ErrorKind::NotFound);
    CHECK(error.message().find("linux/arm64/v8, linux/amd64") != std::string::npos);
  }
}
