#include <doctest/doctest.h>

#include "runtime/server/input_validation.hpp"

using namespace cog::runtime::server;
using nlohmann::json;

namespace {

// An OpenAPI document whose Input has a required string and an integer with a minimum.
const json kDocument = json::parse(R"({"components":{"schemas":{"Input":{"type":"object","title":"Input",
  "properties":{"text":{"type":"string","title":"Text","x-order":0},
                "count":{"type":"integer","minimum":1,"title":"Count","x-order":1}},
  "required":["text","image"]}}}})");

}  // namespace

TEST_CASE("422 entries come in Cog's order: field errors by name, then missing fields") {
  auto validator = InputValidator::from_openapi(kDocument, "Input");
  REQUIRE(validator);
  json input = {{"text", 5}, {"count", "x"}, {"unknown", true}};
  const auto invalid = validator->check(input);
  REQUIRE(invalid);
  CHECK(*invalid == json::parse(R"({"detail":[
    {"loc":["body","input","count"],"msg":"\"x\" is not of type \"integer\"","type":"value_error"},
    {"loc":["body","input","text"],"msg":"5 is not of type \"string\"","type":"value_error"},
    {"loc":["body","input","image"],"msg":"Field required","type":"value_error.missing"}]})"));
  CHECK_FALSE(input.contains("unknown"));  // unknown keys are dropped before validation
}

TEST_CASE("an input that is not an object is a __root__ error, as Cog's") {
  auto validator = InputValidator::from_openapi(kDocument, "Input");
  REQUIRE(validator);
  json input = json::array({1});
  const auto invalid = validator->check(input);
  REQUIRE(invalid);
  CHECK(*invalid == json::parse(R"({"detail":[
    {"loc":["body","input","__root__"],"msg":"[1] is not of type \"object\"","type":"value_error"}]})"));
}

TEST_CASE("one field's errors follow its schema keywords alphabetically, as Cog's") {
  const json document = json::parse(R"({"components":{"schemas":{
    "Input":{"type":"object","properties":{
      "size":{"allOf":[{"$ref":"#/components/schemas/size"}],"x-order":0},
      "text":{"type":"string","minLength":2,"pattern":"^[a-z]+$","x-order":1}}},
    "size":{"title":"size","enum":[3,4,5],"type":"integer"}}}})");
  auto validator = InputValidator::from_openapi(document, "Input");
  REQUIRE(validator);
  json input = {{"size", "3"}, {"text", "A"}};
  const auto invalid = validator->check(input);
  REQUIRE(invalid);
  std::vector<std::string> messages;
  for (const auto& entry : (*invalid)["detail"]) messages.push_back(entry["msg"]);
  CHECK(messages == std::vector<std::string>{"\"3\" is not one of [3,4,5]", "\"3\" is not of type \"integer\"",
                                             "\"A\" is shorter than 2 characters",
                                             "\"A\" does not match \"^[a-z]+$\""});
}

TEST_CASE("an integer too large for 64 bits is refused, not rounded to a float") {
  auto validator = InputValidator::from_openapi(kDocument, "Input");
  REQUIRE(validator);
  json input = json::parse(R"({"text": "a", "count": 123456789012345678901234567890})");
  const auto invalid = validator->check(input);
  REQUIRE(invalid);
  CHECK(*invalid == json::parse(R"({"detail":[{"loc":["body","input","count"],
    "msg":"Input should be an integer that fits in 64 bits","type":"value_error"}]})"));
  json fits = json::parse(R"({"text": "a", "count": 9223372036854775807})");
  const auto only_missing = validator->check(fits);  // "image" is required and missing
  REQUIRE(only_missing);
  CHECK(only_missing->dump() ==
        R"({"detail":[{"loc":["body","input","image"],"msg":"Field required","type":"value_error.missing"}]})");
}
