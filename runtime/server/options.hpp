#pragma once
// Everything cog-server reads from its command line and environment, resolved once at start-up.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/server/http_limits.hpp"

namespace cog::runtime::server {

// getenv, behind a function so tests can supply their own environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 5000;
  bool await_explicit_shutdown = false;
  std::string mode = "predict";  // predict | train
  std::string upload_url;
  std::string runner_ref;      // COG_PREDICT_TYPE_STUB or COG_TRAIN_TYPE_STUB
  int max_concurrency = 0;     // 0 = what the runner declares
  double setup_timeout_s = 0;  // 0 = none
  double throttle_interval_s = 0.5;
  std::size_t stream_history_capacity = 1024;
  std::string webhook_auth_token;
  bool console_log = false;  // LOG_FORMAT=console (or development)
  std::string log_level = "info";
  std::string worker_bin;                               // cog-worker
  std::string sdk_dir;                                  // put first on the worker's PYTHONPATH ("" = none)
  std::string project_dir;                              // the worker's working directory
  std::string weights;                                  // COG_WEIGHTS, passed through the environment
  bool kubernetes = false;                              // write /var/run/cog/ready once healthy
  HttpLimits http;                                      // COG_HTTP_*: what a client may send (docs/security.md)
  std::chrono::milliseconds http_read_timeout{60'000};  // COG_HTTP_READ_TIMEOUT: between two reads or writes
  double shutdown_grace_s = 600;  // COG_RUNNER_SHUTDOWN_GRACE_PERIOD: in-flight predictions may finish
  bool show_version = false;
};

// Throws cog::Error(Usage) for bad flags and a missing runner reference.
ServerOptions parse_server_options(const std::vector<std::string>& args, const EnvLookup& env,
                                   const std::string& self_dir);

std::string server_version_line();

}  // namespace cog::runtime::server
