// The weights of a named image: its /.cog/weights.json parsed, and the cache's own record of the
// sets it holds (what `cog run IMAGE` mounts without a project).
#include <doctest/doctest.h>

#include <fstream>

#include "builder/oci/digest.hpp"
#include "builder/weights/image_weights.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace cog::builder::weights;

TEST_CASE("an image's weights.json is parsed, and a bad one names the field") {
  auto weights = parse_runtime_manifest(
      R"({"weights":[{"name":"tiny","target":"/weights/tiny","setDigest":"sha256:ab"}]})", "img:/.cog/weights.json");
  REQUIRE(weights.size() == 1);
  CHECK(weights[0].name == "tiny");
  CHECK(weights[0].target == "/weights/tiny");
  CHECK(weights[0].set_digest == "sha256:ab");
  CHECK(parse_runtime_manifest(R"({"weights":[]})", "x").empty());
  try {
    parse_runtime_manifest(R"({"weights":[{"name":"tiny","target":""}]})", "img:/.cog/weights.json");
    FAIL("expected an error");
  } catch (const cog::Error& error) {
    CHECK(error.where() == "img:/.cog/weights.json: weights[0].target");
    CHECK(error.fix() == "rebuild the image with cog build");
  }
  CHECK_THROWS_AS(parse_runtime_manifest("not json", "x"), cog::Error);
}

TEST_CASE("the cache remembers a set by its digest, and ignores a record that does not add up") {
  cog::test::TempDir dir;
  ContentStore store(dir.path);
  LockedWeight weight;
  weight.name = "tiny";
  weight.files = {{"a.txt", 1, cog::builder::oci::sha256_of("a").str(), "sha256:layer"},
                  {"sub/b.bin", 1, cog::builder::oci::sha256_of("b").str(), "sha256:layer"}};
  weight.set_digest = set_digest(weight.files);
  CHECK_FALSE(remembered_set(store, weight.set_digest));
  remember_set(store, weight);
  auto files = remembered_set(store, weight.set_digest);
  REQUIRE(files);
  REQUIRE(files->size() == 2);
  CHECK((*files)[1].path == "sub/b.bin");
  CHECK((*files)[1].digest == weight.files[1].digest);

  // A record under another set's name (tampered, or half a write) is not trusted.
  const auto other = cog::builder::oci::sha256_of("other").str();
  std::filesystem::copy_file(store.root().parent_path() / "sets" / (weight.set_digest.substr(7) + ".json"),
                             store.root().parent_path() / "sets" / (other.substr(7) + ".json"));
  CHECK_FALSE(remembered_set(store, other));
}
