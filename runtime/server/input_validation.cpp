#include "runtime/server/input_validation.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

namespace cog::runtime::server {

using nlohmann::json;
using support::JsonSchema;
using support::SchemaError;

InputValidator::InputValidator(JsonSchema schema) : schema_(std::move(schema)) {}

std::unique_ptr<InputValidator> InputValidator::from_openapi(const json& document, const std::string& component) {
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

// The JSON parser reads an integer too large for 64 bits as a double: a field declared integer
// gets such a value refused instead of silently rounded.
bool overflows_integer(const json& schema, const json& value) {
  if (!schema.is_object()) return false;
  if (schema.value("type", "") == "array" && value.is_array()) {
    const json& items = schema.contains("items") ? schema["items"] : json();
    return std::any_of(value.begin(), value.end(), [&](const json& item) { return overflows_integer(items, item); });
  }
  if (schema.value("type", "") != "integer" || !value.is_number_float()) return false;
  const double number = value.get<double>();
  return std::floor(number) == number && std::fabs(number) >= 9223372036854775808.0;
}

}  // namespace

std::optional<json> InputValidator::check(json& input) const {
  const json& properties = schema_.root().value("properties", json::object());
  json too_large = json::array();
  if (input.is_object() && properties.is_object()) {
    for (auto it = input.begin(); it != input.end();) {
      if (!properties.contains(it.key())) {
        it = input.erase(it);
        continue;
      }
      if (overflows_integer(properties[it.key()], it.value())) {
        too_large.push_back({{"loc", {"body", "input", it.key()}},
                             {"msg", "Input should be an integer that fits in 64 bits"},
                             {"type", "value_error"}});
      }
      ++it;
    }
  }
  if (!too_large.empty()) return json{{"detail", too_large}};
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
        detail.push_back(
            {{"loc", {"body", "input", property}}, {"msg", "Field required"}, {"type", "value_error.missing"}});
      }
      continue;
    }
    detail.push_back({{"loc", {"body", "input", field_of(error)}}, {"msg", error.message}, {"type", "value_error"}});
  }
  return json{{"detail", detail}};
}

}  // namespace cog::runtime::server
