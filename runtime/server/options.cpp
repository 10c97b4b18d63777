#include "runtime/server/options.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "support/error.hpp"

namespace cog::runtime::server {
namespace {

bool parse_bool(const std::string& flag, const std::string& value) {
  if (value == "true" || value == "1" || value == "True") return true;
  if (value == "false" || value == "0" || value == "False") return false;
  throw Error(ErrorKind::Usage, flag, "expected true or false, got '" + value + "'");
}

// A whole-text, finite, non-negative number (at most 1e15: counts and seconds, never more).
std::optional<double> parse_non_negative(const std::string& text) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value) && value >= 0 && value <= 1e15) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Cog's settings fall back to their default on a bad value (COG_MAX_CONCURRENCY "invalid → 1").
template <typename Number>
Number env_number(const EnvLookup& env, const std::string& name, Number fallback) {
  const auto text = env(name);
  if (!text || text->empty()) return fallback;
  const auto value = parse_non_negative(*text);
  return value ? static_cast<Number>(*value) : fallback;
}

// A limit from the environment: a bad value is an error (a typo must not silently leave a
// server without the limit its operator asked for).
double env_limit(const EnvLookup& env, const std::string& name, double fallback) {
  const auto text = env(name);
  if (!text || text->empty()) return fallback;
  if (const auto value = parse_non_negative(*text)) return *value;
  throw Error(ErrorKind::Usage, name, "expected a non-negative number, got '" + *text + "'", "see docs/security.md");
}

std::chrono::milliseconds env_seconds(const EnvLookup& env, const std::string& name,
                                      std::chrono::milliseconds fallback) {
  const double seconds = env_limit(env, name, static_cast<double>(fallback.count()) / 1000.0);
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

HttpLimits http_limits_from(const EnvLookup& env) {
  HttpLimits limits;
  const auto count = [&](const std::string& name, std::size_t fallback) {
    const double value = env_limit(env, name, static_cast<double>(fallback));
    if (value < 1) throw Error(ErrorKind::Usage, name, "must be at least 1");
    return static_cast<std::size_t>(value);
  };
  limits.max_request_line_bytes = count("COG_HTTP_MAX_REQUEST_LINE", limits.max_request_line_bytes);
  limits.max_header_bytes = count("COG_HTTP_MAX_HEADER_BYTES", limits.max_header_bytes);
  limits.max_header_count = count("COG_HTTP_MAX_HEADERS", limits.max_header_count);
  limits.max_body_bytes = count("COG_HTTP_MAX_BODY_BYTES", limits.max_body_bytes);
  limits.max_json_depth = count("COG_HTTP_MAX_JSON_DEPTH", limits.max_json_depth);
  limits.max_connections = count("COG_HTTP_MAX_CONNECTIONS", limits.max_connections);
  limits.head_timeout = env_seconds(env, "COG_HTTP_HEAD_TIMEOUT", limits.head_timeout);
  limits.body_timeout = env_seconds(env, "COG_HTTP_BODY_TIMEOUT", limits.body_timeout);
  limits.idle_timeout = env_seconds(env, "COG_HTTP_IDLE_TIMEOUT", limits.idle_timeout);
  return limits;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

std::string server_version_line() {
  return std::string("cog-server ") + COG_VERSION + " (compatible with Cog " + COG_COMPAT_VERSION + ")";
}

ServerOptions parse_server_options(const std::vector<std::string>& args, const EnvLookup& env,
                                   const std::string& self_dir) {
  ServerOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw Error(ErrorKind::Usage, flag, "needs a value");
      return args[++i];
    };
    if (flag == "-v" || flag == "--version") {
      options.show_version = true;
    } else if (flag == "--host") {
      options.host = value();
    } else if (flag == "--await-explicit-shutdown") {
      // Accepted as a bare flag too; an explicit value follows when it reads like a boolean.
      if (inline_value) {
        options.await_explicit_shutdown = parse_bool(flag, *inline_value);
      } else if (i + 1 < args.size() && !args[i + 1].starts_with("-")) {
        options.await_explicit_shutdown = parse_bool(flag, args[++i]);
      } else {
        options.await_explicit_shutdown = true;
      }
    } else if (flag == "--x-mode") {
      options.mode = value();
      if (options.mode != "predict" && options.mode != "train") {
        throw Error(ErrorKind::Usage, "--x-mode", "expected predict or train, got '" + options.mode + "'");
      }
    } else if (flag == "--upload-url") {
      options.upload_url = value();
    } else if (flag == "--threads") {
      (void)value();  // accepted for compatibility; the server sizes its own pool
    } else {
      throw Error(ErrorKind::Usage, "cog-server", "unknown argument '" + args[i] + "'",
                  "see `python -m cog.server.http --help` in Cog's documentation");
    }
  }
  if (options.show_version) return options;

  const std::string stub = options.mode == "train" ? "COG_TRAIN_TYPE_STUB" : "COG_PREDICT_TYPE_STUB";
  options.runner_ref = env(stub).value_or("");
  if (options.runner_ref.empty()) {
    throw Error(ErrorKind::Usage, "cog-server", stub + " is not set",
                "set it to the runner reference, e.g. " + stub + "=run.py:Runner");
  }
  if (const auto port = env("PORT"); port && !port->empty()) {
    try {
      options.port = std::stoi(*port);
    } catch (const std::exception&) {
      throw Error(ErrorKind::Usage, "PORT", "not a port number: '" + *port + "'");
    }
  }
  options.max_concurrency = env_number<int>(env, "COG_MAX_CONCURRENCY", 0);
  options.setup_timeout_s = env_number<double>(env, "COG_SETUP_TIMEOUT", 0);
  options.throttle_interval_s = env_number<double>(env, "COG_THROTTLE_RESPONSE_INTERVAL", 0.5);
  options.stream_history_capacity = env_number<std::size_t>(env, "COG_STREAM_HISTORY_CAPACITY", 1024);
  options.webhook_auth_token = env("WEBHOOK_AUTH_TOKEN").value_or("");
  const std::string format = env("LOG_FORMAT").value_or("json");
  options.console_log = format == "console" || format == "development";
  options.log_level = env("COG_LOG_LEVEL").value_or("info");
  options.kubernetes = env("KUBERNETES_SERVICE_HOST").has_value();
  options.http = http_limits_from(env);
  options.http_read_timeout = env_seconds(env, "COG_HTTP_READ_TIMEOUT", options.http_read_timeout);
  options.shutdown_grace_s = env_limit(env, "COG_RUNNER_SHUTDOWN_GRACE_PERIOD", options.shutdown_grace_s);

  options.worker_bin = env("COG_WORKER_BIN").value_or(self_dir + "/cog-worker");
  if (const auto sdk = env("COG_SDK_DIR")) {
    options.sdk_dir = *sdk;
  } else if (std::filesystem::exists(std::string(COG_SOURCE_DIR) + "/runtime/python/cog")) {
    options.sdk_dir = std::string(COG_SOURCE_DIR) + "/runtime/python";
  }
  options.project_dir = std::filesystem::current_path().string();
  return options;
}

}  // namespace cog::runtime::server
