#include "runtime/local/inputs.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "support/error.hpp"
#include "support/json_schema.hpp"
#include "runtime/local/data_url.hpp"

namespace cog::runtime::local {

using nlohmann::json;
using support::JsonSchema;

namespace {

std::string expand_home(const std::string& path) {
  if (path.starts_with("~/") || path == "~") {
    if (const char* home = std::getenv("HOME")) return std::string(home) + path.substr(1);
  }
  return path;
}

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const json& component_of(const json& schema, const std::string& component) {
  static const json empty = json::object();
  const json::json_pointer pointer("/components/schemas/" + component);
  return schema.contains(pointer) ? schema.at(pointer) : empty;
}

// The property schema with `allOf: [{$ref}]` / `$ref` wrappers (used for choices) resolved.
json resolve(const json& schema, const json& property) {
  json resolved = property;
  for (int depth = 0; depth < 8; ++depth) {
    if (resolved.contains("allOf") && resolved["allOf"].is_array() && resolved["allOf"].size() == 1) {
      json inner = resolved["allOf"][0];
      resolved.erase("allOf");
      resolved.update(inner);
      continue;
    }
    if (resolved.contains("$ref") && resolved["$ref"].is_string()) {
      const std::string ref = resolved["$ref"];
      resolved.erase("$ref");
      if (ref.starts_with("#")) {
        const json::json_pointer pointer(ref.substr(1));
        if (schema.contains(pointer)) resolved.update(schema.at(pointer));
      }
      continue;
    }
    break;
  }
  return resolved;
}

std::optional<json> parse_number(const std::string& text, bool integer_only) {
  if (text.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size() && value >= INT32_MIN && value <= INT32_MAX) return json(value);
  } catch (const std::exception&) {
  }
  if (integer_only) return std::nullopt;
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) {
      // Cog parses a number as float32 and Go writes a float32 as its shortest decimal: 0.95 goes
      // out as 0.95. Widening the float to a double would send 0.949999988079071 instead.
      char shortest[32];
      const auto written = std::to_chars(shortest, shortest + sizeof shortest, static_cast<float>(value));
      return json(std::stod(std::string(shortest, written.ptr)));
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

json coerce(const json& schema, const json& property, const std::string& value) {
  const json p = resolve(schema, property);
  const std::string type = p.value("type", "");
  if (type == "object") {
    json parsed = json::parse(value, nullptr, false);
    return parsed.is_discarded() ? json(value) : parsed;
  }
  if (type == "array") {
    json parsed = json::parse(value, nullptr, false);
    if (parsed.is_array()) return parsed;
    return json::array({coerce(schema, p.value("items", json::object()), value)});
  }
  if (type == "boolean") {
    if (value == "true") return true;
    if (value == "false") return false;
    return value;
  }
  if (type == "integer") return parse_number(value, true).value_or(json(value));
  if (type == "number") return parse_number(value, false).value_or(json(value));
  if (p.contains("anyOf") && p["anyOf"].is_array()) {
    // A union that also takes strings keeps the string unless a typed reading validates.
    for (const auto& branch : p["anyOf"]) {
      const json candidate = coerce(schema, branch, value);
      if (candidate.is_string()) continue;
      try {
        if (JsonSchema(json{{"components", schema.value("components", json::object())}, {"branch", branch}}, "/branch")
                .is_valid(candidate)) {
          return candidate;
        }
      } catch (const std::exception&) {
      }
    }
  }
  return value;
}

std::string json_type_name(const json& value) {
  if (value.is_string()) return "string";
  if (value.is_boolean()) return "boolean";
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_array()) return "array";
  if (value.is_object()) return "object";
  return "null";
}

json files_to_data_urls(json value) {
  if (value.is_string()) {
    const std::string text = value;
    if (text.size() > 1 && text[0] == '@') return file_to_data_url(text.substr(1));
    return value;
  }
  if (value.is_array() || value.is_object()) {
    for (auto& item : value) item = files_to_data_urls(item);
  }
  return value;
}

}  // namespace

std::string file_to_data_url(const std::string& path) {
  const std::string expanded = expand_home(path);
  std::ifstream in(expanded, std::ios::binary);
  if (!in) throw Error(ErrorKind::NotFound, path, "cannot read the input file", "check the path after @");
  const std::string bytes = read_all(in);
  const auto dot = expanded.find_last_of('.');
  const auto slash = expanded.find_last_of('/');
  const std::string extension =
      dot != std::string::npos && (slash == std::string::npos || dot > slash) ? expanded.substr(dot) : "";
  return "data:" + mime_for_extension(extension) + ";base64," + base64_encode(bytes);
}

json parse_cli_inputs(const std::vector<std::string>& values, const json& schema, const std::string& component) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& entry : values) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      throw Error(ErrorKind::Usage, "-i", "Failed to parse input '" + entry + "', expected format is 'name=value'");
    }
    const std::string name = entry.substr(0, eq);
    std::string value = entry.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (!by_name.count(name)) order.push_back(name);
    by_name[name].push_back(value);
  }
  const json properties = component_of(schema, component).value("properties", json::object());
  json inputs = json::object();
  for (const auto& name : order) {
    const auto& raw = by_name[name];
    const json property = properties.contains(name) ? properties[name] : json::object();
    auto one = [&](const json& item_schema, const std::string& value) -> json {
      if (value.size() > 1 && value[0] == '@') return file_to_data_url(value.substr(1));
      return coerce(schema, item_schema, value);
    };
    if (raw.size() == 1) {
      inputs[name] = one(property, raw[0]);
    } else {
      const json items = resolve(schema, property).value("items", json::object());
      json array = json::array();
      for (const auto& value : raw) array.push_back(one(items, value));
      inputs[name] = array;
    }
  }
  return inputs;
}

json parse_json_inputs(const std::string& argument) {
  std::string text;
  if (argument == "-" || argument == "@-") {
    text = read_all(std::cin);
  } else if (!argument.empty() && argument[0] == '@') {
    std::ifstream in(expand_home(argument.substr(1)), std::ios::binary);
    if (!in) throw Error(ErrorKind::NotFound, argument.substr(1), "cannot read the --json file");
    text = read_all(in);
  } else {
    text = argument;
  }
  json inputs = json::parse(text, nullptr, false);
  if (inputs.is_discarded()) throw Error(ErrorKind::Parse, "--json", "not valid JSON");
  if (!inputs.is_object()) throw Error(ErrorKind::Usage, "--json", "must be a JSON object of inputs");
  return files_to_data_urls(std::move(inputs));
}

void check_inputs(const json& inputs, const json& schema, const std::string& component) {
  const json& input_schema = component_of(schema, component);
  if (!input_schema.contains("properties")) return;  // nothing to check against
  const json& properties = input_schema["properties"];
  std::vector<std::string> problems;

  std::vector<std::string> unknown;
  for (const auto& [name, value] : inputs.items()) {
    if (!properties.contains(name)) unknown.push_back(name);
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& name : unknown) names += (names.empty() ? "\"" : ", \"") + name + "\"";
    std::string valid;
    for (const auto& [name, property] : properties.items()) valid += (valid.empty() ? "" : ", ") + name;
    problems.push_back(std::string(unknown.size() == 1 ? "unknown input " : "unknown inputs ") + names +
                       "; valid inputs are: " + valid);
  }
  for (const auto& name : input_schema.value("required", json::array())) {
    if (name.is_string() && !inputs.contains(name.get<std::string>())) {
      problems.push_back("missing required input \"" + name.get<std::string>() + "\"");
    }
  }
  for (const auto& [name, value] : inputs.items()) {
    if (!properties.contains(name)) continue;
    const std::string prefix = "invalid input \"" + name + "\": ";
    if (value.is_null()) {
      problems.push_back(prefix + "must not be null (omit the input to use its default)");
      continue;
    }
    const json property = resolve(schema, properties[name]);
    std::vector<support::SchemaError> errors;
    try {
      json document = schema;
      document["__cog_property"] = property;
      errors = JsonSchema(document, "/__cog_property").validate(value);
    } catch (const std::exception&) {
      continue;
    }
    if (errors.empty()) continue;
    const auto& error = errors.front();
    if (error.keyword == "type" && error.instance_path.empty()) {
      const std::string expected =
          property.value("type", error.keyword_value.is_string() ? error.keyword_value.get<std::string>() : "");
      problems.push_back(prefix + "expected " + expected + ", got " + json_type_name(value));
    } else if (error.keyword == "enum") {
      std::string choices;
      for (const auto& choice : property.value("enum", json::array())) {
        choices += (choices.empty() ? "" : ", ") + (choice.is_string() ? choice.get<std::string>() : choice.dump());
      }
      problems.push_back(prefix + "must be one of: " + choices);
    } else {
      problems.push_back(prefix + error.message);
    }
  }
  if (problems.empty()) return;
  if (problems.size() == 1) throw Error(ErrorKind::Validation, "", problems.front());
  std::string message = "input validation failed:";
  for (const auto& problem : problems) message += "\n- " + problem;
  throw Error(ErrorKind::Validation, "", message);
}

}  // namespace cog::runtime::local
