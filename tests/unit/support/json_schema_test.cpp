// The JSON Schema validator: one case per keyword, with the exact message and instance path.
#include <doctest/doctest.h>

#include "support/error.hpp"
#include "support/json_schema.hpp"

using cog::support::InstancePath;
using cog::support::JsonSchema;
using cog::support::SchemaError;
using cog::support::to_dotted_path;
using cog::support::to_json_pointer;
using nlohmann::json;

namespace {

std::vector<SchemaError> errors_for(const char* schema_text, const char* instance_text) {
  return JsonSchema(json::parse(schema_text)).validate(json::parse(instance_text));
}

// The single error a case is expected to produce, as "pointer|keyword|message".
std::string only_error(const char* schema_text, const char* instance_text) {
  auto errors = errors_for(schema_text, instance_text);
  REQUIRE(errors.size() == 1);
  return to_json_pointer(errors[0].instance_path) + "|" + errors[0].keyword + "|" + errors[0].message;
}

bool valid(const char* schema_text, const char* instance_text) {
  return errors_for(schema_text, instance_text).empty();
}

}  // namespace

TEST_CASE("type: single names, arrays of names, integer accepts integral floats") {
  CHECK(only_error(R"({"type":"integer"})", R"("abc")") == R"(|type|"abc" is not of type "integer")");
  CHECK(only_error(R"({"type":"string"})", "5") == R"(|type|5 is not of type "string")");
  CHECK(only_error(R"({"type":"object"})", "[1,2]") == R"(|type|[1,2] is not of type "object")");
  CHECK(only_error(R"({"type":["string","null"]})", "true") == R"(|type|true is not of types "string", "null")");
  CHECK(valid(R"({"type":["string","null"]})", "null"));
  CHECK(valid(R"({"type":"integer"})", "3"));
  CHECK(valid(R"({"type":"integer"})", "3.0"));
  CHECK_FALSE(valid(R"({"type":"integer"})", "3.5"));
  CHECK(valid(R"({"type":"number"})", "3.5"));
  CHECK(valid(R"({"type":"number"})", "-7"));
  CHECK_FALSE(valid(R"({"type":"boolean"})", "0"));
  CHECK(valid(R"({"type":"null"})", "null"));
}

TEST_CASE("required and properties report the path of the object and the missing name") {
  const char* schema = R"({"type":"object","required":["prompt","n"],
    "properties":{"n":{"type":"integer"},"inner":{"properties":{"x":{"type":"string"}}}}})";
  auto errors = errors_for(schema, R"({"inner":{"x":1}})");
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].message == R"("prompt" is a required property)");
  CHECK(errors[0].keyword == "required");
  CHECK(errors[0].properties == std::vector<std::string>{"prompt"});
  CHECK(to_json_pointer(errors[0].instance_path).empty());
  CHECK(errors[1].message == R"("n" is a required property)");
  CHECK(to_json_pointer(errors[2].instance_path) == "/inner/x");
  CHECK(errors[2].message == R"(1 is not of type "string")");
}

TEST_CASE("additionalProperties: false lists the unexpected names, a schema validates them") {
  const char* closed = R"({"properties":{"a":{}},"additionalProperties":false})";
  CHECK(only_error(closed, R"({"a":1,"b":2})") ==
        "|additionalProperties|Additional properties are not allowed ('b' was unexpected)");
  auto errors = errors_for(closed, R"({"c":1,"b":2})");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "Additional properties are not allowed ('b', 'c' were unexpected)");
  CHECK(errors[0].properties == std::vector<std::string>{"b", "c"});
  CHECK(only_error(R"({"additionalProperties":{"type":"integer"}})", R"({"k":"v"})") ==
        R"(/k|type|"v" is not of type "integer")");
  CHECK(valid(R"({"patternProperties":{"^x_":{"type":"integer"}},"additionalProperties":false})", R"({"x_a":1})"));
  CHECK_FALSE(valid(R"({"patternProperties":{"^x_":{"type":"integer"}}})", R"({"x_a":"s"})"));
}

TEST_CASE("items, tuple items, additionalItems, minItems, maxItems, uniqueItems") {
  CHECK(only_error(R"({"items":{"type":"string"}})", R"(["a",2])") == R"(/1|type|2 is not of type "string")");
  CHECK(only_error(R"({"minItems":1})", "[]") == "|minItems|[] has less than 1 item");
  CHECK(only_error(R"({"minItems":2})", "[1]") == "|minItems|[1] has less than 2 items");
  CHECK(only_error(R"({"maxItems":1})", "[1,2]") == "|maxItems|[1,2] has more than 1 item");
  CHECK(only_error(R"({"uniqueItems":true})", "[1,2,1]") == "|uniqueItems|[1,2,1] has non-unique elements");
  CHECK(only_error(R"({"items":[{"type":"integer"}],"additionalItems":false})", "[1,2]") ==
        "|additionalItems|Additional items are not allowed (2 was unexpected)");
  CHECK(valid(R"({"items":[{"type":"integer"},{"type":"string"}]})", R"([1,"a",null])"));
}

TEST_CASE("enum and const render the instance and the options as compact JSON") {
  CHECK(only_error(R"({"enum":["a","b"]})", R"("x")") == R"(|enum|"x" is not one of ["a","b"])");
  CHECK(valid(R"({"enum":["a",1]})", "1.0"));
  CHECK(only_error(R"({"const":"secret"})", R"("ssh")") == R"(|const|"secret" was expected)");
}

TEST_CASE("string keywords: pattern is unanchored ECMAScript, lengths count code points") {
  CHECK(only_error(R"({"pattern":"^\\d+$"})", R"("12a")") == R"(|pattern|"12a" does not match "^\\d+$")");
  CHECK(valid(R"({"pattern":"b"})", R"("abc")"));
  CHECK(only_error(R"({"minLength":3})", R"("ab")") == R"(|minLength|"ab" is shorter than 3 characters)");
  CHECK(only_error(R"({"maxLength":1})", R"("ab")") == R"(|maxLength|"ab" is longer than 1 character)");
  CHECK(valid(R"({"maxLength":2})", R"("é€")"));  // two code points, five bytes
  CHECK(valid(R"({"pattern":"^x"})", "5"));       // string keywords ignore non-strings
}

TEST_CASE("numeric keywords") {
  CHECK(only_error(R"({"maximum":3})", "5") == "|maximum|5 is greater than the maximum of 3");
  CHECK(only_error(R"({"minimum":3})", "1") == "|minimum|1 is less than the minimum of 3");
  CHECK(only_error(R"({"minimum":0.5})", "0.25") == "|minimum|0.25 is less than the minimum of 0.5");
  CHECK(only_error(R"({"exclusiveMaximum":5})", "5") ==
        "|exclusiveMaximum|5 is greater than or equal to the maximum of 5");
  CHECK(only_error(R"({"exclusiveMinimum":1})", "1") ==
        "|exclusiveMinimum|1 is less than or equal to the minimum of 1");
  CHECK(only_error(R"({"multipleOf":3})", "7") == "|multipleOf|7 is not a multiple of 3");
  CHECK(valid(R"({"multipleOf":0.1})", "0.3"));
  CHECK(valid(R"({"maximum":3})", "3"));
  CHECK(valid(R"({"maximum":3})", R"("5")"));
}

TEST_CASE("anyOf, oneOf, allOf, not, if/then/else, boolean schemas") {
  const char* any = R"({"anyOf":[{"type":"string"},{"type":"integer"}]})";
  CHECK(valid(any, "1"));
  CHECK(only_error(any, "1.5") == "|anyOf|1.5 is not valid under any of the schemas listed in the 'anyOf' keyword");
  const char* one = R"({"oneOf":[{"type":"number"},{"type":"integer"}]})";
  CHECK(valid(one, "1.5"));
  CHECK(only_error(one, "1") == "|oneOf|1 is valid under more than one of the schemas listed in the 'oneOf' keyword");
  CHECK(only_error(one, R"("a")") ==
        R"(|oneOf|"a" is not valid under any of the schemas listed in the 'oneOf' keyword)");
  CHECK(errors_for(R"({"allOf":[{"type":"integer"},{"minimum":10}]})", "5").size() == 1);
  CHECK(only_error(R"({"not":{"required":["run","predict"]}})", R"({"run":"a","predict":"b"})") ==
        R"(|not|{"required":["run","predict"]} is not allowed for {"predict":"b","run":"a"})");
  CHECK(valid(R"({"not":{"required":["run","predict"]}})", R"({"run":"a"})"));
  const char* conditional = R"({"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}})";
  CHECK(valid(conditional, "3"));
  CHECK_FALSE(valid(conditional, "-3"));
  CHECK_FALSE(valid(conditional, "true"));
  CHECK(only_error("false", "1") == "|false|False schema does not allow 1");
  CHECK(valid("true", R"({"anything":[1]})"));
}

TEST_CASE("$ref resolves local pointers, including OpenAPI components, with a root pointer") {
  json openapi = json::parse(R"({
    "components":{"schemas":{
      "Color":{"enum":["red","green"],"type":"string"},
      "Input":{"type":"object","required":["prompt"],"properties":{
        "prompt":{"type":"string"},
        "color":{"allOf":[{"$ref":"#/components/schemas/Color"}]},
        "n":{"type":"integer","maximum":3}}}}}})");
  JsonSchema input(openapi, "/components/schemas/Input");
  CHECK(input.is_valid(json::parse(R"({"prompt":"hi","color":"red","n":3})")));
  auto errors = input.validate(json::parse(R"({"color":"blue","n":5})"));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].message == R"("prompt" is a required property)");
  CHECK(to_json_pointer(errors[1].instance_path) == "/color");
  CHECK(errors[1].message == R"("blue" is not one of ["red","green"])");
  CHECK(to_json_pointer(errors[2].instance_path) == "/n");
  CHECK(errors[2].message == "5 is greater than the maximum of 3");

  const char* recursive = R"({"definitions":{"node":{"type":"object",
    "properties":{"child":{"$ref":"#/definitions/node"},"v":{"type":"integer"}}}},
    "$ref":"#/definitions/node"})";
  CHECK(only_error(recursive, R"({"child":{"child":{"v":"x"}}})") ==
        R"(/child/child/v|type|"x" is not of type "integer")");
  CHECK(valid(R"({"definitions":{"a b":{"type":"string"}},"$ref":"#/definitions/a%20b"})", R"("s")"));
}

TEST_CASE("a $ref cycle that never descends stops with an error instead of recursing forever") {
  auto errors = errors_for(R"({"definitions":{"a":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"})", "1");
  REQUIRE_FALSE(errors.empty());
  CHECK(errors[0].keyword == "$ref");
}

TEST_CASE("broken schemas are rejected when compiled, not while validating") {
  CHECK_THROWS_AS(JsonSchema(json::parse(R"({"$ref":"#/nowhere"})")), cog::Error);
  CHECK_THROWS_AS(JsonSchema(json::parse(R"({"$ref":"other.json#/a"})")), cog::Error);
  CHECK_THROWS_AS(JsonSchema(json::parse(R"({"properties":{"a":{"pattern":"(unclosed"}}})")), cog::Error);
  CHECK_THROWS_AS(JsonSchema(json::parse("{}"), "/components/schemas/Input"), cog::Error);
  // "format" and annotations are ignored.
  CHECK(valid(R"({"format":"uri","title":"T","description":"d","default":1})", R"("not a uri")"));
}

TEST_CASE("instance paths render as JSON pointers and as dotted field names") {
  InstancePath path{std::string("build"), std::string("run"), std::size_t{0}, std::string("a/b~")};
  CHECK(to_json_pointer(path) == "/build/run/0/a~1b~0");
  CHECK(to_dotted_path(path) == "build.run[0].a/b~");
  CHECK(to_json_pointer({}).empty());
}
