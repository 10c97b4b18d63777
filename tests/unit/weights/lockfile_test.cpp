// weights.lock writing, reading, the set digest and the drift check (builder/weights/lockfile.hpp).
#include <doctest/doctest.h>

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "builder/oci/digest.hpp"
#include "builder/weights/lockfile.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace weights = cog::builder::weights;
namespace config = cog::builder::config;

namespace {

weights::WeightsLock sample_lock() {
  weights::LockedWeight weight;
  weight.name = "tiny";
  weight.target = "/weights/tiny";
  weight.sources.push_back({"weights", "sha256:" + std::string(64, 'f'), {"*.bin"}, {"*.md"}, "2026-12-07T05:00:00Z"});
  weight.digest = "sha256:" + std::string(64, 'a');
  weight.files = {{"b.bin", 3, cog::builder::oci::sha256_of("bbb").str(), "sha256:" + std::string(64, 'c')},
                  {"a.bin", 2, cog::builder::oci::sha256_of("aa").str(), "sha256:" + std::string(64, 'c')}};
  weight.set_digest = weights::set_digest(weight.files);
  weight.size = 5;
  weight.size_compressed = 77;
  weight.layers = {{"sha256:" + std::string(64, 'c'), "application/vnd.oci.image.layer.v1.tar+gzip", 77, 2048}};
  weights::WeightsLock lock;
  lock.weights.push_back(weight);
  return lock;
}

config::Config config_for(const weights::WeightsLock& lock) {
  config::Config config;
  for (const auto& weight : lock.weights) {
    config::Weight declared{weight.name, weight.target, {}};
    for (const auto& source : weight.sources) declared.sources.push_back({source.uri, source.include, source.exclude});
    config.weights.push_back(declared);
  }
  return config;
}

}  // namespace

TEST_CASE("the lock round-trips with Cog's field names in a fixed order") {
  const auto lock = sample_lock();
  const std::string text = weights::to_json_text(lock);
  const auto json = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"version", "envelopeFormat", "weights"});
  keys.clear();
  for (const auto& item : json["weights"][0].items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"name", "target", "sources", "digest", "setDigest", "size", "sizeCompressed",
                                         "files", "layers"});
  CHECK(json["weights"][0]["sources"][0]["importedAt"] == "2026-12-07T05:00:00Z");
  CHECK(json["weights"][0]["layers"][0]["sizeUncompressed"] == 2048);
  CHECK(json["weights"][0]["files"][0]["layer"] == "sha256:" + std::string(64, 'c'));

  const auto parsed = weights::parse_lock(text, "weights.lock");
  CHECK(weights::to_json_text(parsed) == text);
  REQUIRE(parsed.find("tiny") != nullptr);
  CHECK(parsed.find("tiny")->files.size() == 2);
  CHECK(parsed.find("other") == nullptr);
}

TEST_CASE("write_lock and read_lock use the file, and a missing lock is nullopt") {
  cog::test::TempDir dir;
  CHECK_FALSE(weights::read_lock(dir.path / "weights.lock").has_value());
  weights::write_lock(dir.path / "weights.lock", sample_lock());
  auto read = weights::read_lock(dir.path / "weights.lock");
  REQUIRE(read.has_value());
  CHECK(read->weights[0].set_digest == sample_lock().weights[0].set_digest);
}

TEST_CASE("the set digest is sha256sum's lines sorted by path, whatever the order given") {
  auto files = sample_lock().weights[0].files;
  const std::string expected = cog::builder::oci::sha256_of(cog::builder::oci::sha256_of("aa").hex + "  a.bin\n" +
                                                            cog::builder::oci::sha256_of("bbb").hex + "  b.bin\n")
                                   .str();
  CHECK(weights::set_digest(files) == expected);
  std::swap(files[0], files[1]);
  CHECK(weights::set_digest(files) == expected);
}

TEST_CASE("malformed locks are parse errors naming the field") {
  CHECK_THROWS_WITH_AS(weights::parse_lock("{", "weights.lock"), doctest::Contains("not valid JSON"), cog::Error);
  CHECK_THROWS_WITH_AS(weights::parse_lock(R"({"version": 2, "envelopeFormat": "x", "weights": []})", "weights.lock"),
                       doctest::Contains("unsupported version 2"), cog::Error);
  CHECK_THROWS_WITH_AS(
      weights::parse_lock(R"({"version": 1, "envelopeFormat": "x", "weights": [{"name": "a"}]})", "weights.lock"),
      doctest::Contains("weights[0].target is missing"), cog::Error);
}

TEST_CASE("drift: target, sources and globs must match") {
  const auto lock = sample_lock();
  auto config = config_for(lock);
  CHECK(weights::drift(config.weights[0], lock.find("tiny")) == "");
  CHECK(weights::drift(config.weights[0], nullptr) == "weight \"tiny\" is not in weights.lock");
  auto moved = config.weights[0];
  moved.target = "/elsewhere";
  CHECK(weights::drift(moved, lock.find("tiny")).find("has target /elsewhere in cog.yaml") != std::string::npos);
  auto globbed = config.weights[0];
  globbed.sources[0].exclude.clear();
  CHECK(weights::drift(globbed, lock.find("tiny")).find("other sources") != std::string::npos);
}

TEST_CASE("require_current_lock names cog.yaml, weights.lock and the fix") {
  cog::test::TempDir dir;
  auto config = config_for(sample_lock());
  config.project_dir = dir.path;
  config.config_path = dir.path / "cog.yaml";
  CHECK_THROWS_WITH_AS(weights::require_current_lock(config), doctest::Contains("does not exist"), cog::Error);
  weights::write_lock(dir.path / "weights.lock", sample_lock());
  CHECK(weights::require_current_lock(config).has_value());
  config.weights[0].sources[0].uri = "other";
  try {
    weights::require_current_lock(config);
    FAIL("no drift error");
  } catch (const cog::Error& error) {
    CHECK(error.describe().find("cog.yaml and ") != std::string::npos);
    CHECK(error.describe().find("weights.lock do not agree") != std::string::npos);
    CHECK(error.describe().find("run cog weights import") != std::string::npos);
  }
  config::Config none;
  CHECK_FALSE(weights::require_current_lock(none).has_value());
}

TEST_CASE("names, file paths and targets that would leave their place are refused wherever a lock is read") {
  CHECK(weights::is_weight_name("tiny"));
  CHECK(weights::is_weight_name("llama-3.1_8b"));
  for (const char* name : {"", "..", ".", "../x", "a/b", "Tiny", "a..b", "-a", "a-", "a b"}) {
    CHECK_MESSAGE(!weights::is_weight_name(name), name);
  }
  CHECK(weights::is_inner_path("model.bin"));
  CHECK(weights::is_inner_path("sub/dir/model.safetensors"));
  CHECK(weights::is_inner_path("..hidden/x"));  // a name that starts with dots is still a name
  for (const char* path : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a/"}) {
    CHECK_MESSAGE(!weights::is_inner_path(path), path);
  }
  CHECK(weights::is_weight_target("/weights/tiny"));
  CHECK(weights::is_weight_target("/weights/tiny/"));
  for (const char* target : {"", "/", "weights", "/src/../etc", "/a/./b", "//"}) {
    CHECK_MESSAGE(!weights::is_weight_target(target), target);
  }

  auto text_with = [](const std::function<void(weights::LockedWeight&)>& edit) {
    auto lock = sample_lock();
    edit(lock.weights[0]);
    return weights::to_json_text(lock);
  };
  CHECK_THROWS_WITH_AS(weights::parse_lock(text_with([](auto& w) { w.name = "../../etc"; }), "weights.lock"),
                       doctest::Contains("weights[0].name \"../../etc\" is not an OCI-safe weight name"), cog::Error);
  CHECK_THROWS_WITH_AS(weights::parse_lock(text_with([](auto& w) { w.target = "/src/../etc"; }), "weights.lock"),
                       doctest::Contains("weights[0].target \"/src/../etc\""), cog::Error);
  CHECK_THROWS_WITH_AS(
      weights::parse_lock(text_with([](auto& w) { w.files[0].path = "../../root/.bashrc"; }), "weights.lock"),
      doctest::Contains("\"../../root/.bashrc\" is not a relative path"), cog::Error);
  CHECK_THROWS_WITH_AS(weights::parse_lock(text_with([](auto& w) { w.files[1].path = "/etc/passwd"; }), "weights.lock"),
                       doctest::Contains("\"/etc/passwd\" is not a relative path"), cog::Error);
  CHECK_THROWS_WITH_AS(weights::parse_lock(text_with([](auto& w) { w.files[0].layer = "../blob"; }), "weights.lock"),
                       doctest::Contains("\"../blob\" is not a digest"), cog::Error);
  CHECK_NOTHROW(weights::parse_lock(text_with([](auto&) {}), "weights.lock"));
}
