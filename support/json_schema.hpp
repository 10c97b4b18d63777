#pragma once
// A JSON Schema (draft-07 subset) validator over nlohmann::json.
//
// Used twice: the cog.yaml loader validates the parsed file against schemas/cog.yaml.schema.json,
// and the HTTP runtime validates prediction inputs against the OpenAPI `Input` component. Messages
// follow the wording of the Rust `jsonschema` crate (what Cog's coglet server returns), e.g.
// `"abc" is not of type "integer"` or `"prompt" is a required property`.
//
// Supported keywords: type (string or array, "integer" accepts 1.0), properties, patternProperties,
// additionalProperties (bool or schema), required, minProperties/maxProperties, items (schema or
// tuple) + additionalItems, minItems/maxItems, uniqueItems, enum, const, pattern (ECMAScript,
// unanchored, linear-time: see pattern.hpp), minLength/maxLength (in code points), minimum/maximum,
// exclusiveMinimum/Maximum (draft-07 numbers), multipleOf, anyOf/oneOf/allOf/not, if/then/else, boolean schemas, and
// $ref to local `#/...` JSON pointers (`#/definitions/X`, `#/components/schemas/X`). `format` and annotations (title,
// description, default, ...) are ignored.
#include <cstddef>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/pattern.hpp"

namespace cog::support {

// One step into a JSON instance: an object key or an array index.
using PathSegment = std::variant<std::string, std::size_t>;
using InstancePath = std::vector<PathSegment>;

// `/build/run/0`: the instance path as a JSON pointer ("" for the root).
std::string to_json_pointer(const InstancePath& path);
// `build.run[0]`: the instance path as a user reads a field name ("" for the root).
std::string to_dotted_path(const InstancePath& path);

struct SchemaError {
  InstancePath instance_path;  // where in the instance the problem is
  std::string keyword;         // the schema keyword that failed: "type", "required", ...
  std::string message;         // jsonschema-crate wording
  // Keyword-specific detail the caller may want to render differently:
  // the missing property for "required", the unexpected ones for "additionalProperties".
  std::vector<std::string> properties;
  // The failing keyword's value in the schema: the type name(s), the enum options, the limit.
  nlohmann::json keyword_value;
  // For anyOf/oneOf: the errors of each branch, in schema order, so a caller can explain the
  // branch the instance was closest to rather than only the summary.
  std::vector<std::vector<SchemaError>> branches;
};

// A compiled schema. The document is the whole JSON file the schema lives in (so `$ref`s resolve
// against it); the root pointer selects the schema to validate against inside it, e.g.
// "/components/schemas/Input" in an OpenAPI document. Every regex is compiled up front, so
// validate() is const and safe to call from several threads at once.
class JsonSchema {
 public:
  // Throws cog::Error(Schema) when the pointer does not resolve or a pattern is not a valid regex.
  explicit JsonSchema(nlohmann::json document, std::string root_pointer = "");

  // All violations found (empty = valid). For anyOf/oneOf/not only the summary error is reported.
  std::vector<SchemaError> validate(const nlohmann::json& instance) const;

  // Convenience: validate(instance).empty().
  bool is_valid(const nlohmann::json& instance) const;

  const nlohmann::json& document() const { return document_; }
  const nlohmann::json& root() const;

 private:
  friend class JsonSchemaValidation;
  nlohmann::json document_;
  std::string root_pointer_;
  std::map<std::string, Pattern> patterns_;  // pattern text -> compiled pattern
};

// Renders a JSON value the way the error messages quote it: compact JSON (`"abc"`, `[1,2]`).
std::string render_json(const nlohmann::json& value);

}  // namespace cog::support
