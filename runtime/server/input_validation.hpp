#pragma once
// Checks a request's `input` against the OpenAPI Input (or TrainingInput) component the way Cog's
// server does, before the worker sees it: unknown keys are dropped, then JSON-Schema violations
// become a 422 body `{"detail":[{"loc":["body","input",<field>],"msg":…,"type":…}]}`.
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/json_schema.hpp"

namespace cog::runtime::server {

class InputValidator {
 public:
  // `document` is the whole OpenAPI document; `component` is "Input" or "TrainingInput". Returns
  // nullptr when the document has no such component or it cannot be compiled.
  static std::unique_ptr<InputValidator> from_openapi(const nlohmann::json& document, const std::string& component);

  // Drops unknown keys from `input`; returns the 422 body when what remains is invalid.
  std::optional<nlohmann::json> check(nlohmann::json& input) const;

 private:
  explicit InputValidator(support::JsonSchema schema);
  support::JsonSchema schema_;
};

}  // namespace cog::runtime::server
