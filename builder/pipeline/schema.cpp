#include "builder/pipeline/schema.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
extern char** environ;

#include <nlohmann/json.hpp>

#include "builder/exec/sandbox.hpp"
#include "support/error.hpp"
#include "support/text_file.hpp"
#include "support/subprocess.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

void require_reference(const config::Config& config) {
  if (config.run.empty() && config.train.empty()) {
    throw Error(ErrorKind::Validation, config.config_path.filename().string(),
                "no predict or train reference found in cog.yaml",
                "add `run: \"run.py:Runner\"` (or `predict:`) naming your model's class");
  }
}

// The generator's command line, with paths as the generator sees them. -S: no site module, so
// no site-packages, .pth files or sitecustomize (about 2 ms): the static generator imports only
// the standard library and the SDK (PYTHONPATH), whatever the host has installed.
std::vector<std::string> generator_argv(const config::Config& config, const std::string& python,
                                        const std::string& project_dir, const std::string& version,
                                        const std::string& metadata_file) {
  std::vector<std::string> argv = {python,
                                   "-P",
                                   "-S",
                                   "-m",
                                   "cog.command.openapi_schema",
                                   "--static",
                                   "--project-dir",
                                   project_dir,
                                   "--version",
                                   version,
                                   "--metadata",
                                   metadata_file};
  if (!config.run.empty()) argv.insert(argv.end(), {"--ref", config.run});
  if (!config.train.empty()) argv.insert(argv.end(), {"--train-ref", config.train});
  return argv;
}

ModelSchema read_generator_output(int exit_code, const std::string& stdout_text, const std::string& stderr_text,
                                  const std::string& metadata_text) {
  if (exit_code != 0) {
    std::string message = trim(stderr_text);
    if (message.empty()) message = "the schema generator exited with status " + std::to_string(exit_code);
    // The generator prints `file:line: message`; keep its location as ours.
    throw Error(ErrorKind::Validation, "", message,
                "fix the model's signature; the build stops before any layer is built");
  }
  ModelSchema schema;
  schema.openapi = trim(stdout_text);
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

fs::path default_bytecode_dir() {
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) {
    return fs::path(cache) / "cog" / "python-bytecode";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".cache" / "cog" / "python-bytecode";
}

bool starts_with_any(const std::string& item, std::initializer_list<std::string_view> prefixes) {
  for (auto prefix : prefixes) {
    if (item.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace

PendingSchema::PendingSchema(support::Process process, fs::path metadata_file)
    : process_(std::move(process)), metadata_file_(std::move(metadata_file)) {}

PendingSchema::PendingSchema(PendingSchema&& other) noexcept
    : process_(std::move(other.process_)), metadata_file_(std::move(other.metadata_file_)) {
  other.metadata_file_.clear();
}

PendingSchema::~PendingSchema() {
  if (metadata_file_.empty()) return;  // joined, or moved from
  process_.signal(SIGKILL);            // before the file goes, so that it cannot write it again
  (void)process_.wait();
  std::error_code ignored;
  fs::remove(metadata_file_, ignored);
}

ModelSchema PendingSchema::join() {
  auto result = process_.wait();
  const std::string metadata_text = support::read_text_file(metadata_file_);
  std::error_code ignored;
  fs::remove(metadata_file_, ignored);
  metadata_file_.clear();
  return read_generator_output(result.exit_code, result.stdout_text, result.stderr_text, metadata_text);
}

PendingSchema start_schema(const config::Config& config, const fs::path& sdk_dir, const std::string& version,
                           const fs::path& bytecode_dir) {
  require_reference(config);
  const char* python_env = std::getenv("COG_HOST_PYTHON");
  const std::string python = python_env && *python_env ? python_env : "/usr/bin/python3";
  const fs::path temp_dir = fs::temp_directory_path();  // $TMPDIR, else /tmp
  std::string metadata_template = (temp_dir / "cog-schema-meta-XXXXXX").string();
  int fd = mkstemp(metadata_template.data());
  if (fd < 0)
    throw Error(ErrorKind::Io, temp_dir.string(),
                std::string("could not create a temporary file: ") + std::strerror(errno),
                "check that TMPDIR names a writable directory with free space");
  close(fd);
  fs::path metadata_file = metadata_template;

  support::SpawnOptions options;
  options.capture_stdout = true;
  options.capture_stderr = true;
  for (char** entry = environ; *entry; ++entry) {
    std::string item = *entry;
    if (starts_with_any(item, {"PYTHONPATH=", "PYTHONHOME=", "PYTHONDONTWRITEBYTECODE=", "PYTHONPYCACHEPREFIX="})) {
      continue;
    }
    options.env.push_back(item);
  }
  options.env.push_back("PYTHONPATH=" + sdk_dir.string());
  // Bytecode goes to cog's cache, not beside the SDK or the model: without it every build would
  // compile the parts of the SDK that have no up-to-date .pyc in place (5-15 ms; the SDK directory
  // may be read-only, and nothing writes there with PYTHONDONTWRITEBYTECODE set).
  const fs::path bytecode = bytecode_dir.empty() ? default_bytecode_dir() : bytecode_dir;
  options.env.push_back("PYTHONPYCACHEPREFIX=" + bytecode.string());
  try {
    auto process = support::Process::spawn(
        generator_argv(config, python, config.project_dir.string(), version, metadata_file.string()), options);
    return PendingSchema(std::move(process), std::move(metadata_file));
  } catch (...) {
    std::error_code ignored;
    fs::remove(metadata_file, ignored);
    throw;
  }
}

ModelSchema generate_schema(const config::Config& config, const fs::path& sdk_dir, const std::string& version) {
  return start_schema(config, sdk_dir, version).join();
}

ModelSchema generate_schema_in_root(const config::Config& config, const fs::path& sdk_dir, const std::string& version,
                                    const std::vector<fs::path>& lowers, const fs::path& scratch) {
  require_reference(config);
  const fs::path exchange = scratch / "exchange";
  fs::create_directories(exchange);
  exec::StepSpec spec;
  spec.argv = generator_argv(config, "python3", "/src", version, "/cog-schema/metadata.json");
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONPATH=/opt/cog/python", "PYTHONDONTWRITEBYTECODE=1",
              "LANG=C.UTF-8"};
  spec.workdir = "/";
  spec.network = exec::Network::None;
  spec.binds = {
      {config.project_dir, "/src", true}, {sdk_dir, "/opt/cog/python", true}, {exchange, "/cog-schema", false}};
  std::string stdout_text;
  std::string stderr_text;
  auto status = exec::run_step({lowers, scratch / "upper"}, spec, [&](exec::Stream stream, std::string_view line) {
    (stream == exec::Stream::Stdout ? stdout_text : stderr_text) += std::string(line) + "\n";
  });
  const std::string metadata_text = support::read_text_file(exchange / "metadata.json");
  std::error_code ignored;
  fs::remove_all(scratch, ignored);
  const int exit_code = status.ok() ? 0 : (status.exit_code == 0 ? 1 : status.exit_code);
  return read_generator_output(exit_code, stdout_text, stderr_text, metadata_text);
}

namespace {

// What keeps `document` from being an OpenAPI 3.0 document in outline (Cog validates the whole
// schema; the parts the server and Replicate read must at least be there), empty when nothing.
std::string openapi_structure_problem(const nlohmann::json& document) {
  if (!document.is_object()) return "the document is not a JSON object";
  auto member = [](const nlohmann::json& object, const char* name) -> const nlohmann::json* {
    auto found = object.find(name);
    return found == object.end() ? nullptr : &*found;
  };
  const auto* openapi = member(document, "openapi");
  if (openapi == nullptr) return "missing `openapi` (the OpenAPI version, e.g. \"3.0.2\")";
  if (!openapi->is_string() || !openapi->get_ref<const std::string&>().starts_with("3.")) {
    return "`openapi` must be a version string starting with \"3.\", not " + openapi->dump();
  }
  const auto* info = member(document, "info");
  if (info == nullptr) return "missing `info`";
  if (!info->is_object()) return "`info` must be an object";
  for (const char* name : {"title", "version"}) {
    const auto* value = member(*info, name);
    if (value == nullptr) return std::string("missing `info.") + name + "`";
    if (!value->is_string()) return std::string("`info.") + name + "` must be a string";
  }
  const auto* paths = member(document, "paths");
  if (paths == nullptr) return "missing `paths`";
  if (!paths->is_object()) return "`paths` must be an object";
  if (const auto* components = member(document, "components")) {
    if (!components->is_object()) return "`components` must be an object";
    if (const auto* schemas = member(*components, "schemas"); schemas != nullptr && !schemas->is_object()) {
      return "`components.schemas` must be an object";
    }
  }
  return {};
}

}  // namespace

ModelSchema read_schema_file(const fs::path& file) {
  if (!fs::exists(file)) {
    throw Error(ErrorKind::NotFound, file.string(), "the OpenAPI schema file does not exist",
                "check the path given to --openapi-schema");
  }
  ModelSchema schema;
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(support::read_text_file(file));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Parse, file.string(), std::string("Model schema is invalid: ") + e.what(),
                "give a JSON OpenAPI document");
  }
  if (auto problem = openapi_structure_problem(document); !problem.empty()) {
    throw Error(ErrorKind::Validation, file.string(), "Model schema is invalid: " + problem,
                "regenerate it with `cog build` without --openapi-schema, or fix " + file.string());
  }
  schema.openapi = document.dump();
  return schema;
}

}  // namespace cog::builder::pipeline
