#include "builder/build/schema.hpp"

#include <unistd.h>

#include <cstdlib>
extern char** environ;
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "builder/support/error.hpp"
#include "builder/support/subprocess.hpp"

namespace fs = std::filesystem;

namespace cog::builder::build {
namespace {

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

ModelSchema generate_schema(const config::Config& config, const fs::path& sdk_dir,
                            const std::string& version) {
  if (config.run.empty() && config.train.empty()) {
    throw Error(ErrorKind::Validation, config.config_path.filename().string(),
                "no predict or train reference found in cog.yaml",
                "add `run: \"run.py:Runner\"` (or `predict:`) naming your model's class");
  }
  const char* python_env = std::getenv("COG_HOST_PYTHON");
  const std::string python = python_env && *python_env ? python_env : "/usr/bin/python3";
  char metadata_template[] = "/tmp/cog-schema-meta-XXXXXX";
  int fd = mkstemp(metadata_template);
  if (fd < 0) throw Error(ErrorKind::Io, "/tmp", "could not create a temporary file", "");
  close(fd);
  const fs::path metadata_file = metadata_template;

  std::vector<std::string> argv = {python, "-P", "-s", "-m", "cog.command.openapi_schema", "--static",
                                   "--project-dir", config.project_dir.string(), "--version", version,
                                   "--metadata", metadata_file.string()};
  if (!config.run.empty()) {
    argv.insert(argv.end(), {"--ref", config.run});
  }
  if (!config.train.empty()) {
    argv.insert(argv.end(), {"--train-ref", config.train});
  }
  support::SpawnOptions options;
  for (char** entry = environ; *entry; ++entry) {
    std::string item = *entry;
    if (item.rfind("PYTHONPATH=", 0) == 0 || item.rfind("PYTHONHOME=", 0) == 0) continue;
    options.env.push_back(item);
  }
  options.env.push_back("PYTHONPATH=" + sdk_dir.string());
  options.env.push_back("PYTHONDONTWRITEBYTECODE=1");
  auto result = support::run_captured(argv, options);
  const std::string metadata_text = read_file(metadata_file);
  fs::remove(metadata_file);
  if (result.exit_code != 0) {
    std::string message = trim(result.stderr_text);
    if (message.empty()) message = "the schema generator exited with status " + std::to_string(result.exit_code);
    // The generator prints `file:line: message`; keep its location as ours.
    throw Error(ErrorKind::Validation, "", message,
                "fix the model's signature; the build stops before any layer is built");
  }
  ModelSchema schema;
  schema.openapi = trim(result.stdout_text);
  try {
    auto metadata = nlohmann::json::parse(metadata_text);
    schema.is_async = metadata.value("is_async", false);
    schema.max_concurrency = metadata.value("max_concurrency", 1);
    schema.streaming = metadata.value("streaming", false);
    (void)nlohmann::json::parse(schema.openapi);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Runtime, "schema generator", std::string("unreadable output: ") + e.what(),
                "this is a bug in cog; please report it");
  }
  return schema;
}

ModelSchema read_schema_file(const fs::path& file) {
  if (!fs::exists(file)) {
    throw Error(ErrorKind::NotFound, file.string(), "the OpenAPI schema file does not exist",
                "check the path given to --openapi-schema");
  }
  ModelSchema schema;
  try {
    auto document = nlohmann::json::parse(read_file(file));
    if (!document.is_object()) throw nlohmann::json::type_error::create(302, "not an object", nullptr);
    schema.openapi = document.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, file.string(), std::string("Model schema is invalid: ") + e.what(),
                "give a JSON OpenAPI document");
  }
  return schema;
}

}  // namespace cog::builder::build
