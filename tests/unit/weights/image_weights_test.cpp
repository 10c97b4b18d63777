// The weights of a named image: its /.cog/weights.json parsed, and the cache's own record of the
// sets it holds (what `cog run IMAGE` mounts without a project).
#include <doctest/doctest.h>

#include <fstream>

#include "builder/oci/digest.hpp"
#include "builder/weights/image_weights.hpp"
#include "builder/weights/pull.hpp"
#include "builder/weights/runtime.hpp"
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

TEST_CASE("a hostile image's weights.json cannot name a host path, nor can a tampered set record") {
  for (const char* manifest :
       {R"({"weights":[{"name":"../../../etc/profile.d","target":"/weights","setDigest":"sha256:ab"}]})",
        R"({"weights":[{"name":"x/y","target":"/weights","setDigest":"sha256:ab"}]})"}) {
    try {
      parse_runtime_manifest(manifest, "img:/.cog/weights.json");
      FAIL("expected an error");
    } catch (const cog::Error& error) {
      CHECK(error.where() == "img:/.cog/weights.json: weights[0].name");
    }
  }
  CHECK_THROWS_WITH_AS(
      parse_runtime_manifest(R"({"weights":[{"name":"tiny","target":"/../../etc","setDigest":"sha256:ab"}]})", "x"),
      doctest::Contains("is not an absolute path without . or .."), cog::Error);

  // A set record whose digest adds up but whose path climbs out is not used.
  cog::test::TempDir dir;
  ContentStore store(dir.path);
  LockedWeight weight;
  weight.name = "tiny";
  weight.files = {{"../../outside.sh", 1, cog::builder::oci::sha256_of("a").str(), ""}};
  weight.set_digest = set_digest(weight.files);
  remember_set(store, weight);
  CHECK_FALSE(remembered_set(store, weight.set_digest));

  // And the mounts refuse it even when handed one directly.
  const auto file = dir.path / "a.txt";
  std::ofstream(file) << "a";
  store.add(file, cog::builder::oci::sha256_of("a"));
  CHECK_THROWS_WITH_AS(PreparedMounts(dir.path / "mounts", {weight}, store),
                       doctest::Contains("is not a relative path"), cog::Error);
  weight.name = "../escape";
  weight.files[0].path = "a.txt";
  CHECK_THROWS_WITH_AS(PreparedMounts(dir.path / "mounts", {weight}, store),
                       doctest::Contains("is not an OCI-safe weight name"), cog::Error);
  CHECK_FALSE(std::filesystem::exists(dir.path / "escape"));
}

TEST_CASE("pull takes only a regular file the layer holds itself, never through a symlink") {
  cog::test::TempDir dir;
  const auto root = dir.path / "layer";
  std::filesystem::create_directories(root / "sub");
  std::ofstream(root / "sub/model.bin") << "weights";
  std::ofstream(dir.path / "secret") << "host file";
  std::filesystem::create_symlink(dir.path, root / "link-dir");
  std::filesystem::create_symlink(dir.path / "secret", root / "link-file");
  CHECK(is_file_in_layer(root, "sub/model.bin"));
  CHECK_FALSE(is_file_in_layer(root, "link-dir/secret"));
  CHECK_FALSE(is_file_in_layer(root, "link-file"));
  CHECK_FALSE(is_file_in_layer(root, "../secret"));
  CHECK_FALSE(is_file_in_layer(root, "sub"));
  CHECK_FALSE(is_file_in_layer(root, "sub/missing.bin"));
}
