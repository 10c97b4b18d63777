#include "builder/config/schema.hpp"

#include <schemas/cog_yaml_schema.hpp>

namespace cog::builder::config {

using nlohmann::json;

namespace {

// Follows $ref (local only: the schema is ours) until a schema without one.
const json* dereference(const json& document, const json* schema) {
  for (int hops = 0; schema && schema->is_object() && schema->contains("$ref") && hops < 16; ++hops) {
    const auto& ref = (*schema)["$ref"];
    if (!ref.is_string() || !ref.get<std::string>().starts_with("#")) return nullptr;
    json::json_pointer pointer(ref.get<std::string>().substr(1));
    schema = document.contains(pointer) ? &document.at(pointer) : nullptr;
  }
  return schema;
}

// In an anyOf, the first branch that can hold a key (wants_key) or an index.
const json* branch_for(const json& document, const json* schema, bool wants_key) {
  schema = dereference(document, schema);
  if (!schema || !schema->is_object() || !schema->contains("anyOf")) return schema;
  for (const auto& branch : (*schema)["anyOf"]) {
    const json* candidate = dereference(document, &branch);
    if (candidate && candidate->is_object() && candidate->contains(wants_key ? "properties" : "items")) {
      return candidate;
    }
  }
  return schema;
}

}  // namespace

std::string_view cog_yaml_schema_text() { return cog::schemas::kCogYamlSchemaJson; }

support::JsonSchema cog_yaml_schema() { return support::JsonSchema(json::parse(cog_yaml_schema_text())); }

const json* subschema_at(const json& schema_document, const support::InstancePath& path) {
  const json* schema = &schema_document;
  for (const auto& segment : path) {
    bool is_key = std::holds_alternative<std::string>(segment);
    schema = branch_for(schema_document, schema, is_key);
    if (!schema || !schema->is_object()) return nullptr;
    if (is_key) {
      auto properties = schema->find("properties");
      const auto& key = std::get<std::string>(segment);
      if (properties == schema->end() || !properties->contains(key)) return nullptr;
      schema = &(*properties)[key];
    } else {
      auto items = schema->find("items");
      if (items == schema->end()) return nullptr;
      schema = &*items;
    }
  }
  return dereference(schema_document, schema);
}

std::vector<std::string> allowed_fields(const json& schema_document, const support::InstancePath& path) {
  std::vector<std::string> names;
  const json* schema = branch_for(schema_document, subschema_at(schema_document, path), true);
  if (!schema || !schema->is_object() || !schema->contains("properties")) return names;
  for (const auto& [name, _] : (*schema)["properties"].items()) names.push_back(name);
  return names;
}

}  // namespace cog::builder::config
