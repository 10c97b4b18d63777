#pragma once
// What `cog run` does with a finished prediction (§1.4 "Output handling"): strings to stdout,
// files written as output.<ext> / output.<n>.<ext>, other values as indented JSON, or with --json
// the whole result object.
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace cog::runtime::local {

struct OutputOptions {
  std::string output_path;              // -o; "" = default names
  bool json_mode = false;               // --json
  std::string component = "Output";     // or "TrainingOutput"
  std::string default_name = "output";  // `cog train` uses "weights"
};

// `response` is the body of POST /predictions; `schema` the OpenAPI document. Returns the exit code
// (non-zero only in --json mode); throws cog::Error `Prediction failed with status "…": …`.
int handle_prediction_output(const nlohmann::json& response, const nlohmann::json& schema, const OutputOptions& options,
                             std::ostream& out, std::ostream& err);

}  // namespace cog::runtime::local
