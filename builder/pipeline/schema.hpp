#pragma once
// The model's OpenAPI schema, produced before any layer is built, without running the model's
// code or needing its dependencies: the SDK's static generator, run with the host's Python.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/config/config.hpp"
#include "support/subprocess.hpp"

namespace cog::builder::pipeline {

struct ModelSchema {
  std::string openapi;  // compact JSON, Cog's key order
  bool is_async = false;
  int max_concurrency = 1;  // @cog.concurrent(max=N); 1 when not declared
  bool streaming = false;
};

// The host's generator, started and not yet waited for: a build starts it first and joins it
// before it builds any layer, so the other work of a warm rebuild hides its Python start-up.
class PendingSchema {
 public:
  PendingSchema(support::Process process, std::filesystem::path metadata_file);
  PendingSchema(PendingSchema&& other) noexcept;
  PendingSchema& operator=(PendingSchema&&) = delete;
  ~PendingSchema();  // an unjoined generator is killed (the build failed elsewhere)

  // Waits for the generator; throws cog::Error with its located message, as generate_schema.
  ModelSchema join();

 private:
  support::Process process_;
  std::filesystem::path metadata_file_;
};

// Starts `python3 -m cog.command.openapi_schema --static` from `sdk_dir` (COG_HOST_PYTHON picks
// the interpreter, default /usr/bin/python3). Its bytecode is cached under `bytecode_dir` (empty:
// $XDG_CACHE_HOME/cog/python-bytecode), never beside the SDK or the model.
PendingSchema start_schema(const config::Config& config, const std::filesystem::path& sdk_dir,
                           const std::string& version, const std::filesystem::path& bytecode_dir = {});

// start_schema(...).join(). Throws cog::Error with the generator's located message.
ModelSchema generate_schema(const config::Config& config, const std::filesystem::path& sdk_dir,
                            const std::string& version);

// The same generator run by the image's own Python, in a sandbox over `lowers` (the base's
// layers, oldest first) with no network and the project and SDK bound read-only: for an image
// whose Python is newer than the host's, so the model may use syntax the host cannot parse.
// `scratch` is an empty directory for the sandbox's upper and the metadata file.
ModelSchema generate_schema_in_root(const config::Config& config, const std::filesystem::path& sdk_dir,
                                    const std::string& version, const std::vector<std::filesystem::path>& lowers,
                                    const std::filesystem::path& scratch);

// `--openapi-schema FILE`: a schema the user wrote, checked to be an OpenAPI 3 document in outline
// (`openapi` "3.x", `info.title` and `info.version`, `paths`, `components.schemas` an object when
// there); throws cog::Error(Parse) for bad JSON, (Validation) "Model schema is invalid: ..." else.
ModelSchema read_schema_file(const std::filesystem::path& file);

}  // namespace cog::builder::pipeline
