#include "runtime/server/input_validation.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace cog::runtime::server {

using builder::support::JsonSchema;
using builder::support::SchemaError;
using nlohmann::json;

InputValidator::InputValidator(JsonSchema schema) : schema_(std::move(schema)) {}

std::unique_ptr<InputValidator> InputValidator::from_openapi(const json& document,
                                                             const std::string& component) {
  const auto& schemas = document.value("/components/schemas"_json_pointer, json::object());
  if (!schemas.is_object() || !schemas.contains(component)) return nullptr;
  try {
    return std::unique_ptr<InputValidator>(
        new InputValidator(JsonSchema(document, "/components/schemas/" + component)));
  } catch (const std::exception&) {
    return nullptr;
  }
}

namespace {

const std::string kProperties = "properties";

json field_of(const SchemaError& error) {
  if (error.instance_path.empty()) return "__root__";
  const auto& first = error.instance_path.front();
  if (const auto* key = std::get_if<std::string>(&first)) return *key;
  return "__root__";
}

}  // namespace

std::optional<json> InputValidator::check(json& input) const {
  const json& properties = schema_.root().value("properties", json::object());
  if (input.is_object() && properties.is_object()) {
    for (auto it = input.begin(); it != input.end();) {
      it = properties.contains(it.key()) ? std::next(it) : input.erase(it);
    }
  }
  std::vector<SchemaError> errors = schema_.validate(input);
  if (errors.empty()) return std::nullopt;
  // Cog's validator walks each schema's keywords in alphabetical order: the errors under
  // "properties" (field by field, alphabetically) come before the missing ones of "required", and
  // one field's errors follow its keywords ("enum" before "type", "minLength" before "pattern").
  const auto order_of = [](const SchemaError& error) {
    return std::tie(error.instance_path.empty() ? error.keyword : kProperties, error.instance_path, error.keyword);
  };
  std::stable_sort(errors.begin(), errors.end(),
                   [&](const SchemaError& a, const SchemaError& b) { return order_of(a) < order_of(b); });
  json detail = json::array();
  for (const auto& error : errors) {
    if (error.keyword == "required") {
      for (const auto& property : error.properties) {
        detail.push_back({{"loc", {"body", "input", property}},
                          {"msg", "Field required"},
                          {"type", "value_error.missing"}});
      }
      continue;
    }
    detail.push_back({{"loc", {"body", "input", field_of(error)}},
                      {"msg", error.message},
                      {"type", "value_error"}});
  }
  return json{{"detail", detail}};
}

}  // namespace cog::runtime::server
