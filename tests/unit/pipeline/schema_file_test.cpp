// `cog build --openapi-schema FILE`: the file must be an OpenAPI 3 document in outline, as Cog
// validates it ("Model schema is invalid: ..."), before it is baked into the image.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "builder/pipeline/schema.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using namespace cog::builder::pipeline;

namespace {

// What our static generator writes for a one-input model (runtime/python/cog/_schema.py), trimmed.
constexpr const char* kGenerated = R"({
  "openapi": "3.0.2",
  "info": {"title": "Cog", "version": "0.1.0"},
  "paths": {"/predictions": {"post": {"summary": "Predict", "operationId": "predict_predictions_post"}}},
  "components": {"schemas": {"Input": {"type": "object", "title": "Input",
                                       "properties": {"name": {"type": "string", "default": "world"}}},
                             "Output": {"type": "string", "title": "Output"}}}
})";

fs::path write(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
  return file;
}

// The error read_schema_file raises for `text`, as "kind message — fix" pieces.
cog::Error rejection(const TempDir& dir, const std::string& text) {
  const fs::path file = write(dir.path / "schema.json", text);
  try {
    read_schema_file(file);
  } catch (const cog::Error& error) {
    return error;
  }
  FAIL("accepted: " << text);
  return cog::Error(cog::ErrorKind::Runtime, "", "");
}

}  // namespace

TEST_CASE("schema file: a generated schema is read as it is") {
  TempDir dir;
  ModelSchema schema = read_schema_file(write(dir.path / "schema.json", kGenerated));
  CHECK(schema.openapi.find("\"openapi\":\"3.0.2\"") != std::string::npos);
  CHECK(schema.openapi.find("\"Input\"") != std::string::npos);
  // components is optional; 3.1 documents are OpenAPI 3 too.
  CHECK_NOTHROW(read_schema_file(
      write(dir.path / "bare.json", R"({"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}})")));
}

TEST_CASE("schema file: a document that is not OpenAPI 3 names what is wrong") {
  TempDir dir;
  const fs::path file = dir.path / "schema.json";
  const std::string fix = "regenerate it with `cog build` without --openapi-schema, or fix " + file.string();
  struct Case {
    const char* text;
    const char* problem;
  };
  for (const Case& c : {
           Case{R"([1, 2])", "the document is not a JSON object"},
           Case{R"({"info":{"title":"t","version":"1"},"paths":{}})", "missing `openapi`"},
           Case{R"({"openapi":"2.0","info":{"title":"t","version":"1"},"paths":{}})",
                "`openapi` must be a version string starting with \"3.\", not \"2.0\""},
           Case{R"({"openapi":3,"info":{"title":"t","version":"1"},"paths":{}})", "`openapi` must be a version string"},
           Case{R"({"openapi":"3.0.2","paths":{}})", "missing `info`"},
           Case{R"({"openapi":"3.0.2","info":[],"paths":{}})", "`info` must be an object"},
           Case{R"({"openapi":"3.0.2","info":{},"paths":{}})", "missing `info.title`"},
           Case{R"({"openapi":"3.0.2","info":{"title":"t"},"paths":{}})", "missing `info.version`"},
           Case{R"({"openapi":"3.0.2","info":{"title":"t","version":1},"paths":{}})",
                "`info.version` must be a string"},
           Case{R"({"openapi":"3.0.2","info":{"title":"t","version":"1"}})", "missing `paths`"},
           Case{R"({"openapi":"3.0.2","info":{"title":"t","version":"1"},"paths":[]})", "`paths` must be an object"},
           Case{R"({"openapi":"3.0.2","info":{"title":"t","version":"1"},"paths":{},"components":{"schemas":[]}})",
                "`components.schemas` must be an object"},
       }) {
    CAPTURE(c.text);
    cog::Error error = rejection(dir, c.text);
    CHECK(error.kind() == cog::ErrorKind::Validation);
    CHECK(error.where() == file.string());
    CHECK(error.message().starts_with(std::string("Model schema is invalid: ") + c.problem));
    CHECK(error.fix() == fix);
  }
  // The report's example: an info with nothing in it.
  CHECK(rejection(dir, R"({"openapi":"3.0.2","info":{}})").message() ==
        "Model schema is invalid: missing `info.title`");
}

TEST_CASE("schema file: unreadable JSON and a missing file keep their kinds") {
  TempDir dir;
  cog::Error bad = rejection(dir, "{not json");
  CHECK(bad.kind() == cog::ErrorKind::Parse);
  CHECK(bad.message().starts_with("Model schema is invalid: "));
  CHECK_THROWS_AS(read_schema_file(dir.path / "absent.json"), cog::Error);
}
