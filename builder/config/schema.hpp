#pragma once
// The cog.yaml JSON schema (schemas/cog.yaml.schema.json, compiled into the binary).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/json_schema.hpp"

namespace cog::builder::config {

// The schema document as JSON text, exactly as checked in.
std::string_view cog_yaml_schema_text();

// The compiled schema, ready to validate a cog.yaml converted to JSON.
support::JsonSchema cog_yaml_schema();

// The subschema describing the value at an instance path (`build`, `weights[0].source`), following
// $ref and choosing the anyOf branch that has properties; nullptr when the schema says nothing.
const nlohmann::json* subschema_at(const nlohmann::json& schema_document, const support::InstancePath& path);

// The field names a mapping at this path may hold, alphabetically.
std::vector<std::string> allowed_fields(const nlohmann::json& schema_document, const support::InstancePath& path);

}  // namespace cog::builder::config
