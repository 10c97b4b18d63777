// Hand-written rather than Debian's valijson (libvalijson-dev 1.0), after a spike that ran this
// file's unit tests against valijson with its results mapped to SchemaError: 35 of the 95
// assertions that ran failed and the $ref-cycle case crashed. What the mapping could not reach:
// - An error is only {context, description}: no keyword, no schema location, no keyword value.
//   `type` says "Value type not permitted by 'type' constraint.", so `"x" is not of type
//   "integer"` needs the failing subschema's `type`, which an instance path cannot find once
//   $ref, allOf/anyOf or patternProperties are involved; numbers come as std::to_string ("5.000000").
// - anyOf/oneOf push every branch's errors into the flat list, so SchemaError::branches (which
//   builder/config/schema_check.cpp explains) cannot be rebuilt; additionalProperties names only
//   the first unexpected property, not `('b', 'c' were unexpected)`.
// - Order differs (errors inside properties come before `required`), `integer` rejects 3.0 in
//   strict mode (weak mode accepts "3"), a false schema reports nothing, and a $ref cycle that
//   never descends recurses until the stack overflows.
// - `pattern` is matched with std::regex, hard-coded, with no hook for another engine in 1.0:
//   the per-character recursion that pattern.cpp exists to avoid. Its Validator also fills a
//   regex cache while validating, so one compiled schema could not serve the server's threads.
// One file of about 530 lines: one validation pass whose keyword checks read best side by side.

#include "support/json_schema.hpp"

#include <cmath>
#include <optional>
#include <set>

#include "support/error.hpp"

namespace cog::support {

using nlohmann::json;

namespace {

// A `$ref` chain that never descends into the instance (A -> B -> A) would recurse forever; real
// schemas nest a few dozen levels at most, so past this depth we stop and report it.
constexpr int kMaxDepth = 256;

std::string plural(double count, const char* one, const char* many) { return count == 1 ? one : many; }

std::size_t count_code_points(const std::string& text) {
  std::size_t count = 0;
  for (unsigned char byte : text) {
    if ((byte & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool is_integral(const json& value) {
  if (value.is_number_integer()) return true;  // also true for unsigned
  if (!value.is_number_float()) return false;
  double number = value.get<double>();
  return std::isfinite(number) && std::floor(number) == number;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "null") return value.is_null();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "number") return value.is_number();
  if (type == "integer") return is_integral(value);
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `$ref` fragments may be percent-encoded (`#/definitions/a%20b`).
std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Resolves a JSON pointer ("" or "/a/b") inside document; nullptr when it does not resolve.
const json* resolve_pointer(const json& document, const std::string& pointer) {
  if (pointer.empty()) return &document;
  try {
    json::json_pointer parsed(pointer);
    if (!document.contains(parsed)) return nullptr;
    return &document.at(parsed);
  } catch (const json::exception&) {
    return nullptr;
  }
}

// "#/definitions/X" -> "/definitions/X"; anything that is not a local reference -> nullopt.
std::optional<std::string> local_pointer(const std::string& ref) {
  if (ref.empty() || ref[0] != '#') return std::nullopt;
  return percent_decode(ref.substr(1));
}

Pattern compile_pattern(const std::string& pattern) {
  try {
    return Pattern(pattern);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::Schema, "json schema",
                "pattern " + render_json(pattern) + " is not a valid regular expression (" + e.what() + ")",
                "fix the pattern in the schema");
  }
}

// Walks every subschema reachable from the root (following $refs once each) to compile patterns
// and check that references resolve, so that validation itself can never fail on the schema.
class SchemaWalker {
 public:
  SchemaWalker(const json& document, std::map<std::string, Pattern>& patterns)
      : document_(document), patterns_(patterns) {}

  void walk(const json& schema) {
    if (!schema.is_object()) return;
    if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) follow(*it);
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) add_pattern(*it);
    for (const char* keyword : {"properties", "patternProperties", "definitions", "$defs", "dependencies"}) {
      auto it = schema.find(keyword);
      if (it == schema.end() || !it->is_object()) continue;
      for (const auto& [key, subschema] : it->items()) {
        if (std::string(keyword) == "patternProperties") add_pattern(key);
        walk(subschema);
      }
    }
    for (const char* keyword : {"additionalProperties", "additionalItems", "not", "if", "then", "else", "contains",
                                "propertyNames", "items"}) {
      if (auto it = schema.find(keyword); it != schema.end()) walk_one_or_many(*it);
    }
    for (const char* keyword : {"anyOf", "oneOf", "allOf"}) {
      if (auto it = schema.find(keyword); it != schema.end()) walk_one_or_many(*it);
    }
  }

 private:
  void walk_one_or_many(const json& value) {
    if (value.is_array()) {
      for (const auto& item : value) walk(item);
    } else {
      walk(value);
    }
  }

  void add_pattern(const std::string& pattern) {
    if (!patterns_.count(pattern)) patterns_.emplace(pattern, compile_pattern(pattern));
  }

  void follow(const std::string& ref) {
    auto pointer = local_pointer(ref);
    const json* target = pointer ? resolve_pointer(document_, *pointer) : nullptr;
    if (!target) {
      throw Error(ErrorKind::Schema, "json schema",
                  "$ref " + render_json(ref) + " does not resolve inside the document",
                  "only local references such as \"#/definitions/Name\" are supported");
    }
    if (visited_.insert(*pointer).second) walk(*target);
  }

  const json& document_;
  std::map<std::string, Pattern>& patterns_;
  std::set<std::string> visited_;
};

}  // namespace

std::string render_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string to_json_pointer(const InstancePath& path) {
  std::string text;
  for (const auto& segment : path) {
    text += '/';
    if (const auto* key = std::get_if<std::string>(&segment)) {
      for (char c : *key) {
        if (c == '~') {
          text += "~0";
        } else if (c == '/') {
          text += "~1";
        } else {
          text += c;
        }
      }
    } else {
      text += std::to_string(std::get<std::size_t>(segment));
    }
  }
  return text;
}

std::string to_dotted_path(const InstancePath& path) {
  std::string text;
  for (const auto& segment : path) {
    if (const auto* key = std::get_if<std::string>(&segment)) {
      if (!text.empty()) text += '.';
      text += *key;
    } else {
      text += "[" + std::to_string(std::get<std::size_t>(segment)) + "]";
    }
  }
  return text;
}

// One validation pass: the schema, the errors found so far, and the current instance path.
class JsonSchemaValidation {
 public:
  explicit JsonSchemaValidation(const JsonSchema& schema) : schema_(schema) {}

  void check(const json& schema, const json& instance, int depth) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) report("false", "False schema does not allow " + render_json(instance));
      return;
    }
    if (!schema.is_object()) return;
    if (depth > kMaxDepth) {
      report("$ref", "schema nesting is too deep (a $ref cycle?) at " + render_json(instance));
      return;
    }
    if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) {
      // Constructor checked that every reachable $ref resolves.
      auto pointer = local_pointer(*it);
      if (const json* target = pointer ? resolve_pointer(schema_.document_, *pointer) : nullptr) {
        check(*target, instance, depth + 1);
      }
    }
    check_type(schema, instance);
    check_enum_const(schema, instance);
    if (instance.is_string()) check_string(schema, instance.get_ref<const std::string&>());
    if (instance.is_number()) check_number(schema, instance);
    if (instance.is_object()) check_object(schema, instance, depth);
    if (instance.is_array()) check_array(schema, instance, depth);
    check_combinators(schema, instance, depth);
  }

  std::vector<SchemaError> take() { return std::move(errors_); }

 private:
  SchemaError& report(std::string keyword, std::string message, std::vector<std::string> properties = {},
                      json keyword_value = nullptr) {
    errors_.push_back(
        {path_, std::move(keyword), std::move(message), std::move(properties), std::move(keyword_value), {}});
    return errors_.back();
  }

  // Runs check() on a subschema into a scratch error list; empty when it passed.
  std::vector<SchemaError> errors_under(const json& schema, const json& instance, int depth) {
    JsonSchemaValidation scratch(schema_);
    scratch.path_ = path_;
    scratch.check(schema, instance, depth + 1);
    return scratch.take();
  }

  bool passes(const json& schema, const json& instance, int depth) {
    return errors_under(schema, instance, depth).empty();
  }

  void check_type(const json& schema, const json& instance) {
    auto it = schema.find("type");
    if (it == schema.end()) return;
    if (it->is_string()) {
      if (!has_type(instance, *it)) {
        report("type", render_json(instance) + " is not of type " + render_json(*it), {}, *it);
      }
      return;
    }
    if (!it->is_array()) return;
    std::string names;
    for (const auto& type : *it) {
      if (type.is_string() && has_type(instance, type)) return;
      if (!names.empty()) names += ", ";
      names += render_json(type);
    }
    report("type", render_json(instance) + " is not of types " + names, {}, *it);
  }

  void check_enum_const(const json& schema, const json& instance) {
    if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
      bool found = false;
      for (const auto& option : *it) found = found || option == instance;
      if (!found) report("enum", render_json(instance) + " is not one of " + render_json(*it), {}, *it);
    }
    if (auto it = schema.find("const"); it != schema.end() && *it != instance) {
      report("const", render_json(*it) + " was expected", {}, *it);
    }
  }

  void check_string(const json& schema, const std::string& text) {
    std::size_t length = count_code_points(text);
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number()) {
      if (static_cast<double>(length) < it->get<double>()) {
        report("minLength", render_json(text) + " is shorter than " + render_json(*it) +
                                plural(it->get<double>(), " character", " characters"));
      }
    }
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number()) {
      if (static_cast<double>(length) > it->get<double>()) {
        report("maxLength", render_json(text) + " is longer than " + render_json(*it) +
                                plural(it->get<double>(), " character", " characters"));
      }
    }
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
      auto compiled = schema_.patterns_.find(*it);
      if (compiled != schema_.patterns_.end() && !compiled->second.search(text)) {
        report("pattern", render_json(text) + " does not match " + render_json(*it), {}, *it);
      }
    }
  }

  void check_number(const json& schema, const json& instance) {
    double number = instance.get<double>();
    auto limit = [&](const char* keyword) -> const json* {
      auto it = schema.find(keyword);
      return it != schema.end() && it->is_number() ? &*it : nullptr;
    };
    std::string shown = render_json(instance);
    if (const json* min = limit("minimum"); min && number < min->get<double>()) {
      report("minimum", shown + " is less than the minimum of " + render_json(*min));
    }
    if (const json* max = limit("maximum"); max && number > max->get<double>()) {
      report("maximum", shown + " is greater than the maximum of " + render_json(*max));
    }
    if (const json* min = limit("exclusiveMinimum"); min && number <= min->get<double>()) {
      report("exclusiveMinimum", shown + " is less than or equal to the minimum of " + render_json(*min));
    }
    if (const json* max = limit("exclusiveMaximum"); max && number >= max->get<double>()) {
      report("exclusiveMaximum", shown + " is greater than or equal to the maximum of " + render_json(*max));
    }
    if (const json* divisor = limit("multipleOf"); divisor && divisor->get<double>() > 0) {
      bool multiple;
      if (instance.is_number_integer() && divisor->is_number_integer()) {
        multiple = instance.get<long long>() % divisor->get<long long>() == 0;
      } else {
        double quotient = number / divisor->get<double>();
        multiple = std::isfinite(quotient) && std::fabs(quotient - std::round(quotient)) < 1e-9;
      }
      if (!multiple) report("multipleOf", shown + " is not a multiple of " + render_json(*divisor));
    }
  }

  void check_object(const json& schema, const json& instance, int depth) {
    if (auto it = schema.find("required"); it != schema.end() && it->is_array()) {
      for (const auto& name : *it) {
        if (name.is_string() && !instance.contains(name.get<std::string>())) {
          report("required", render_json(name) + " is a required property", {name}, *it);
        }
      }
    }
    auto count_limit = [&](const char* keyword, bool too_many) {
      auto it = schema.find(keyword);
      if (it == schema.end() || !it->is_number()) return;
      double size = static_cast<double>(instance.size());
      if (too_many ? size > it->get<double>() : size < it->get<double>()) {
        report(keyword, render_json(instance) + (too_many ? " has more than " : " has less than ") + render_json(*it) +
                            plural(it->get<double>(), " property", " properties"));
      }
    };
    count_limit("minProperties", false);
    count_limit("maxProperties", true);

    const json* properties = nullptr;
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) properties = &*it;
    const json* pattern_properties = nullptr;
    if (auto it = schema.find("patternProperties"); it != schema.end() && it->is_object()) {
      pattern_properties = &*it;
    }
    auto additional = schema.find("additionalProperties");
    std::vector<std::string> unexpected;
    for (const auto& [key, value] : instance.items()) {
      bool matched = false;
      path_.push_back(key);
      if (properties && properties->contains(key)) {
        matched = true;
        check(properties->at(key), value, depth + 1);
      }
      if (pattern_properties) {
        for (const auto& [pattern, subschema] : pattern_properties->items()) {
          auto compiled = schema_.patterns_.find(pattern);
          if (compiled != schema_.patterns_.end() && compiled->second.search(key)) {
            matched = true;
            check(subschema, value, depth + 1);
          }
        }
      }
      if (!matched && additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          unexpected.push_back(key);
        } else if (additional->is_object()) {
          check(*additional, value, depth + 1);
        }
      }
      path_.pop_back();
    }
    if (!unexpected.empty()) {
      std::string names;
      for (const auto& name : unexpected) names += (names.empty() ? "'" : ", '") + name + "'";
      report("additionalProperties",
             "Additional properties are not allowed (" + names +
                 (unexpected.size() == 1 ? " was unexpected)" : " were unexpected)"),
             unexpected);
    }
  }

  void check_array(const json& schema, const json& instance, int depth) {
    auto count_limit = [&](const char* keyword, bool too_many) {
      auto it = schema.find(keyword);
      if (it == schema.end() || !it->is_number()) return;
      double size = static_cast<double>(instance.size());
      if (too_many ? size > it->get<double>() : size < it->get<double>()) {
        report(keyword, render_json(instance) + (too_many ? " has more than " : " has less than ") + render_json(*it) +
                            plural(it->get<double>(), " item", " items"));
      }
    };
    count_limit("minItems", false);
    count_limit("maxItems", true);
    if (auto it = schema.find("uniqueItems"); it != schema.end() && it->is_boolean() && *it) {
      bool unique = true;
      for (std::size_t i = 0; i < instance.size() && unique; ++i) {
        for (std::size_t j = i + 1; j < instance.size() && unique; ++j) {
          unique = instance[i] != instance[j];
        }
      }
      if (!unique) report("uniqueItems", render_json(instance) + " has non-unique elements");
    }
    auto items = schema.find("items");
    if (items != schema.end() && items->is_array()) {
      // Tuple form: items[i] checks element i; additionalItems checks the rest.
      auto additional = schema.find("additionalItems");
      for (std::size_t i = 0; i < instance.size(); ++i) {
        path_.push_back(i);
        if (i < items->size()) {
          check((*items)[i], instance[i], depth + 1);
        } else if (additional != schema.end()) {
          if (additional->is_boolean() && !additional->get<bool>()) {
            path_.pop_back();
            report("additionalItems",
                   "Additional items are not allowed (" + render_json(instance[i]) + " was unexpected)");
            break;
          }
          check(*additional, instance[i], depth + 1);
        }
        path_.pop_back();
      }
    } else if (items != schema.end()) {
      for (std::size_t i = 0; i < instance.size(); ++i) {
        path_.push_back(i);
        check(*items, instance[i], depth + 1);
        path_.pop_back();
      }
    }
    if (auto it = schema.find("contains"); it != schema.end()) {
      bool any = false;
      for (const auto& element : instance) any = any || passes(*it, element, depth);
      if (!any) report("contains", "None of " + render_json(instance) + " are valid under the given schema");
    }
  }

  void check_combinators(const json& schema, const json& instance, int depth) {
    if (auto it = schema.find("allOf"); it != schema.end() && it->is_array()) {
      for (const auto& subschema : *it) check(subschema, instance, depth + 1);
    }
    if (auto it = schema.find("anyOf"); it != schema.end() && it->is_array()) {
      std::vector<std::vector<SchemaError>> branches;
      bool any = false;
      for (const auto& subschema : *it) {
        branches.push_back(errors_under(subschema, instance, depth));
        any = any || branches.back().empty();
        if (any) break;
      }
      if (!any) {
        report("anyOf", render_json(instance) + " is not valid under any of the schemas listed in the 'anyOf' keyword")
            .branches = std::move(branches);
      }
    }
    if (auto it = schema.find("oneOf"); it != schema.end() && it->is_array()) {
      std::vector<std::vector<SchemaError>> branches;
      int valid = 0;
      for (const auto& subschema : *it) {
        branches.push_back(errors_under(subschema, instance, depth));
        valid += branches.back().empty() ? 1 : 0;
      }
      if (valid == 0) {
        report("oneOf", render_json(instance) + " is not valid under any of the schemas listed in the 'oneOf' keyword")
            .branches = std::move(branches);
      } else if (valid > 1) {
        report("oneOf",
               render_json(instance) + " is valid under more than one of the schemas listed in the 'oneOf' keyword");
      }
    }
    if (auto it = schema.find("not"); it != schema.end() && passes(*it, instance, depth)) {
      report("not", render_json(*it) + " is not allowed for " + render_json(instance));
    }
    if (auto it = schema.find("if"); it != schema.end()) {
      const char* branch = passes(*it, instance, depth) ? "then" : "else";
      if (auto next = schema.find(branch); next != schema.end()) check(*next, instance, depth + 1);
    }
  }

  const JsonSchema& schema_;
  InstancePath path_;
  std::vector<SchemaError> errors_;
};

JsonSchema::JsonSchema(json document, std::string root_pointer)
    : document_(std::move(document)), root_pointer_(std::move(root_pointer)) {
  if (!resolve_pointer(document_, root_pointer_)) {
    throw Error(ErrorKind::Schema, "json schema",
                "pointer " + render_json(root_pointer_) + " does not resolve inside the document",
                "pass the JSON pointer of the schema to validate against");
  }
  SchemaWalker(document_, patterns_).walk(root());
}

const json& JsonSchema::root() const { return *resolve_pointer(document_, root_pointer_); }

std::vector<SchemaError> JsonSchema::validate(const json& instance) const {
  JsonSchemaValidation validation(*this);
  validation.check(root(), instance, 0);
  return validation.take();
}

bool JsonSchema::is_valid(const json& instance) const { return validate(instance).empty(); }

}  // namespace cog::support
