#pragma once
// The model's OpenAPI schema, produced before any layer is built, without running the model's
// code or needing its dependencies: the SDK's static generator, run with the host's Python.
#include <filesystem>
#include <string>

#include "builder/config/config.hpp"

namespace cog::builder::build {

struct ModelSchema {
  std::string openapi;     // compact JSON, Cog's key order
  bool is_async = false;
  int max_concurrency = 1;  // @cog.concurrent(max=N); 1 when not declared
  bool streaming = false;
};

// Runs `python3 -m cog.command.openapi_schema --static` from `sdk_dir` (COG_HOST_PYTHON picks the
// interpreter, default /usr/bin/python3). Throws cog::Error with the generator's located message.
ModelSchema generate_schema(const config::Config& config, const std::filesystem::path& sdk_dir,
                            const std::string& version);

// `--openapi-schema FILE`: a schema the user wrote; only checked to be a JSON object.
ModelSchema read_schema_file(const std::filesystem::path& file);

}  // namespace cog::builder::build
