// YAML typing as Go's yaml.v3 reads an untyped document (YAML 1.2 core schema).
#include <doctest/doctest.h>

#include "builder/config/yaml_tree.hpp"

using cog::builder::config::YamlTree;
using nlohmann::json;

namespace {
json as_json(const std::string& text) {
  std::vector<cog::Error> errors;
  json document = YamlTree(text, "cog.yaml").to_json(errors);
  REQUIRE(errors.empty());
  return document;
}
}  // namespace

TEST_CASE("plain scalars are typed, quoted ones stay strings") {
  json document = as_json(
      "a: true\nb: False\nc: yes\nd: 3.10\ne: '3.10'\nf: 42\ng: -7\nh: 0x1F\ni: 0o17\nj: ~\nk: null\n"
      "l:\nm: .inf\nn: 1e3\no: \"true\"\np: !!str 5\nq: 1.2.3\nr: 99999999999999999999\n");
  CHECK(document["a"] == true);
  CHECK(document["b"] == false);
  CHECK(document["c"] == "yes");
  CHECK(document["d"].is_number_float());
  CHECK(document["e"] == "3.10");
  CHECK(document["f"] == 42);
  CHECK(document["g"] == -7);
  CHECK(document["h"] == 31);
  CHECK(document["i"] == 15);
  CHECK(document["j"].is_null());
  CHECK(document["k"].is_null());
  CHECK(document["l"].is_null());
  CHECK(document["m"].is_number_float());
  CHECK(document["n"] == 1000.0);
  CHECK(document["o"] == "true");
  CHECK(document["p"] == "5");
  CHECK(document["q"] == "1.2.3");
  CHECK(document["r"].is_number());
}

TEST_CASE("locations are 1-based and fall back to the key of a null value") {
  YamlTree tree("build:\n  gpu: true\nempty:\n", "cog.yaml");
  using Path = cog::support::InstancePath;
  CHECK(tree.locate(Path{std::string("build"), std::string("gpu")}).str() == "cog.yaml:2:8");
  CHECK(tree.locate(Path{std::string("empty")}).str() == "cog.yaml:3:1");
  CHECK(tree.locate(Path{std::string("build"), std::string("missing")}).str() == "cog.yaml:2:3");
  CHECK(tree.locate_key(Path{std::string("build")}, "gpu").str() == "cog.yaml:2:3");
  CHECK(tree.locate(Path{}).str() == "cog.yaml:1:1");
}
