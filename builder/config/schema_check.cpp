// Phase 1: the JSON schema. Turns each schema violation into a located error in Cog's words
// (`schema error in "build.gpu": must be a boolean`) plus a fix, and unknown fields into
// `unknown field "python_pakages" under build` with a did-you-mean.
#include <algorithm>

#include "builder/config/load_context.hpp"
#include "builder/config/schema.hpp"
#include "support/did_you_mean.hpp"
#include "support/text.hpp"

namespace cog::builder::config {

using nlohmann::json;
using support::InstancePath;
using support::SchemaError;

namespace {

std::string field_name(const InstancePath& path) { return path.empty() ? "cog.yaml" : support::to_dotted_path(path); }

std::string last_key(const InstancePath& path) {
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (const auto* key = std::get_if<std::string>(&*it)) return *key;
  }
  return "cog.yaml";
}

// The expected types without "null" (null is only there so that an empty `key:` is accepted).
std::vector<std::string> expected_types(const json& type_value) {
  std::vector<std::string> types;
  if (type_value.is_string()) types.push_back(type_value);
  if (type_value.is_array()) {
    for (const auto& type : type_value) {
      if (type.is_string() && type != "null") types.push_back(type);
    }
  }
  return types;
}

// `must be a string or number`, the wording Cog uses for type errors.
std::string must_be(const std::vector<std::string>& types) {
  auto noun = [](const std::string& type) -> std::string {
    if (type == "object") return "mapping";
    if (type == "array") return "list";
    return type;
  };
  std::string text = "must be ";
  for (std::size_t i = 0; i < types.size(); ++i) {
    std::string word = noun(types[i]);
    if (i == 0) {
      bool vowel = std::string("aeiou").find(word[0]) != std::string::npos;
      text += (vowel ? "an " : "a ") + word;
    } else {
      text += " or " + word;
    }
  }
  return text;
}

std::string type_fix(const std::vector<std::string>& types, const InstancePath& path, const LoadContext& context) {
  std::string key = last_key(path);
  std::string written = context.text_at(path);
  if (types.size() == 2 && types[0] == "string" && types[1] == "number") {
    return "write a version, e.g. " + key + ": \"3.13\"";
  }
  const std::string& type = types.empty() ? std::string() : types[0];
  if (type == "string") {
    return written.empty() ? "write a single string, e.g. " + key + ": \"...\""
                           : "quote it: " + key + ": \"" + written + "\"";
  }
  if (type == "boolean") return "write true or false";
  if (type == "integer") return "write a whole number, e.g. " + key + ": 1";
  if (type == "object") return "indent \"field: value\" lines under " + key + ":";
  if (type == "array") return "write one \"- item\" line per entry under " + key + ":";
  return "see https://cog.run/yaml for the expected shape";
}

// anyOf/oneOf: when exactly one branch has the value's shape (a mapping for a mapping, a list for
// a list), that branch's errors explain the problem better than "not valid under any of ...".
void flatten(const SchemaError& error, std::vector<SchemaError>& out) {
  if (error.keyword != "anyOf" && error.keyword != "oneOf") {
    out.push_back(error);
    return;
  }
  const std::vector<SchemaError>* closest = nullptr;
  int matching = 0;
  for (const auto& branch : error.branches) {
    bool shape_differs = std::any_of(branch.begin(), branch.end(), [&](const SchemaError& e) {
      return e.keyword == "type" && e.instance_path == error.instance_path;
    });
    if (!shape_differs) {
      closest = &branch;
      ++matching;
    }
  }
  if (matching != 1) {
    out.push_back(error);
    return;
  }
  for (const auto& inner : *closest) flatten(inner, out);
}

class SchemaReporter {
 public:
  SchemaReporter(LoadContext& context, const json& schema_document) : context_(context), schema_(schema_document) {}

  // A misspelt field also makes the right one "missing": once we suggest "uri" for "url", a
  // second error saying "uri is required" would only repeat it.
  void remember_suggestions(const std::vector<SchemaError>& errors) {
    for (const auto& error : errors) {
      if (error.keyword != "additionalProperties") continue;
      for (const auto& name : error.properties) {
        if (auto suggestion = support::closest_match(name, allowed_fields(schema_, error.instance_path))) {
          suggested_.emplace_back(error.instance_path, *suggestion);
        }
      }
    }
  }

  void report(const SchemaError& error) {
    const InstancePath& path = error.instance_path;
    std::string field = field_name(path);
    if (error.keyword == "additionalProperties") {
      for (const auto& name : error.properties) unknown_field(path, name);
    } else if (error.keyword == "required") {
      missing_field(path, error.properties.empty() ? std::string() : error.properties[0]);
    } else if (error.keyword == "type") {
      auto types = expected_types(error.keyword_value);
      context_.fail(ErrorKind::Schema, context_.at(path), "schema error in \"" + field + "\": " + must_be(types),
                    type_fix(types, path, context_));
    } else if (error.keyword == "not" && path.empty()) {
      if (!context_.document.is_object()) return;  // `required` passes on non-objects
      context_.fail(ErrorKind::Schema, context_.at_key(path, "predict"), "only one of run or predict can be set",
                    "remove predict: (the deprecated name) and keep run:");
    } else if (error.keyword == "pattern") {
      pattern_mismatch(path, error);
    } else if (error.keyword == "anyOf" || error.keyword == "oneOf") {
      alternatives(path);
    } else if (error.keyword == "enum") {
      std::vector<std::string> options;
      for (const auto& option : error.keyword_value) options.push_back(support::render_json(option));
      context_.fail(ErrorKind::Schema, context_.at(path),
                    "schema error in \"" + field + "\": must be one of " + support::join(options, ", "),
                    "write " + (options.empty() ? std::string("a listed value") : options[0]));
    } else if (error.keyword == "minItems") {
      context_.fail(ErrorKind::Schema, context_.at(path), "schema error in \"" + field + "\": must not be empty",
                    "add at least one entry, or remove " + last_key(path) + ":");
    } else {
      context_.fail(ErrorKind::Schema, context_.at(path), "schema error in \"" + field + "\": " + error.message,
                    "see https://cog.run/yaml");
    }
  }

 private:
  void unknown_field(const InstancePath& path, const std::string& name) {
    std::string under = path.empty() ? "at the top level of cog.yaml" : "under " + field_name(path);
    std::string fix;
    auto allowed = allowed_fields(schema_, path);
    auto build_fields = allowed_fields(schema_, {std::string("build")});
    if (path.empty() && std::find(build_fields.begin(), build_fields.end(), name) != build_fields.end()) {
      fix = "\"" + name + "\" belongs in the build section: indent it under build:";
    } else if (auto suggestion = support::closest_match(name, allowed)) {
      fix = "did you mean \"" + *suggestion + "\"?";
    } else if (auto build_suggestion = path.empty() ? support::closest_match(name, build_fields) : std::nullopt) {
      fix = "did you mean \"" + *build_suggestion + "\"? It belongs in the build section";
    } else {
      fix = "remove it; the fields allowed " + (path.empty() ? std::string("there") : "under " + field_name(path)) +
            " are: " + support::join(allowed, ", ");
    }
    context_.fail(ErrorKind::Schema, context_.at_key(path, name), "unknown field \"" + name + "\" " + under, fix);
  }

  void missing_field(const InstancePath& path, const std::string& name) {
    // build.python_version has its own message (Cog's), produced by read_build.
    if (name == "python_version" && path == InstancePath{std::string("build")}) return;
    for (const auto& [suggested_path, suggested_name] : suggested_) {
      if (suggested_path == path && suggested_name == name) return;
    }
    std::string field = field_name(path);
    context_.fail(ErrorKind::Schema, context_.at(path), "schema error in \"" + field + "\": " + name + " is required",
                  "add \"" + name + ": ...\" to " + field);
  }

  void pattern_mismatch(const InstancePath& path, const SchemaError& error) {
    // environment entries get Cog's KEY=VALUE message from read_environment.
    if (!path.empty() && path[0] == support::PathSegment(std::string("environment"))) return;
    std::string field = field_name(path);
    std::string value = context_.text_at(path);
    if (last_key(path) == "name" && !path.empty() && path[0] == support::PathSegment(std::string("weights"))) {
      context_.fail(ErrorKind::Validation, context_.at(path),
                    "invalid " + field + " \"" + value +
                        "\": must be an OCI-safe name (lowercase letters and digits, separated by "
                        "single '.', '_' or '-')",
                    "rename it, e.g. \"model-weights\"");
      return;
    }
    context_.fail(ErrorKind::Schema, context_.at(path), "schema error in \"" + field + "\": " + error.message,
                  "see https://cog.run/yaml");
  }

  // anyOf/oneOf when no single branch matched the value's shape: say what shapes are accepted.
  void alternatives(const InstancePath& path) {
    std::string field = field_name(path);
    std::string shapes = "does not have an accepted shape";
    if (last_key(path) == "source") shapes = "must be a mapping with a uri, or a non-empty list of them";
    if (path.size() == 3 && field.starts_with("build.run[")) {
      shapes = "must be a string or a mapping with a command (and optional mounts)";
    }
    context_.fail(ErrorKind::Schema, context_.at(path), "schema error in \"" + field + "\": " + shapes,
                  "see https://cog.run/yaml");
  }

  LoadContext& context_;
  const json& schema_;
  std::vector<std::pair<InstancePath, std::string>> suggested_;
};

}  // namespace

void check_schema(LoadContext& context) {
  json schema_document = json::parse(cog_yaml_schema_text());
  support::JsonSchema schema(schema_document);
  std::vector<SchemaError> errors;
  for (const auto& error : schema.validate(context.document)) flatten(error, errors);
  SchemaReporter reporter(context, schema_document);
  reporter.remember_suggestions(errors);
  for (const auto& error : errors) reporter.report(error);
}

}  // namespace cog::builder::config
