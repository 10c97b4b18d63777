#pragma once
// `cog run -i name=value` and `--json` into the request's `input` object, coerced with the model's
// Input schema, then checked the way Cog's CLI does before running anything (§1.4).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cog::runtime::local {

// `-i` values in order; `schema` is the whole OpenAPI document and `component` "Input" or
// "TrainingInput". Throws cog::Error(Usage) for malformed `-i` values and unreadable @files.
nlohmann::json parse_cli_inputs(const std::vector<std::string>& values, const nlohmann::json& schema,
                                const std::string& component);

// `--json` text: inline JSON, `@file`, `@-` or `-` (stdin). String values starting with `@` are
// files, sent as data URLs.
nlohmann::json parse_json_inputs(const std::string& argument);

// Throws cog::Error(Validation) listing every problem: unknown/missing inputs, wrong types, enum
// and other constraint violations, explicit nulls.
void check_inputs(const nlohmann::json& inputs, const nlohmann::json& schema, const std::string& component);

// `data:<mime>;base64,<…>` for the file at `path` (`~` expanded).
std::string file_to_data_url(const std::string& path);

}  // namespace cog::runtime::local
