#include <doctest/doctest.h>

#include <map>

#include "support/error.hpp"
#include "runtime/server/options.hpp"

using namespace cog::runtime::server;

namespace {
EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("flags and environment") {
  const auto options = parse_server_options(
      {"--host", "127.0.0.1", "--await-explicit-shutdown", "true", "--upload-url", "http://u/", "--threads", "4"},
      env_of({{"COG_PREDICT_TYPE_STUB", "run.py:Runner"},
              {"PORT", "6000"},
              {"COG_MAX_CONCURRENCY", "4"},
              {"COG_THROTTLE_RESPONSE_INTERVAL", "0.1"},
              {"LOG_FORMAT", "console"}}),
      "/bin");
  CHECK(options.host == "127.0.0.1");
  CHECK(options.await_explicit_shutdown);
  CHECK(options.upload_url == "http://u/");
  CHECK(options.port == 6000);
  CHECK(options.max_concurrency == 4);
  CHECK(options.throttle_interval_s == doctest::Approx(0.1));
  CHECK(options.console_log);
  CHECK(options.worker_bin == "/bin/cog-worker");
}

TEST_CASE("a missing runner reference names the variable") {
  CHECK_THROWS_WITH_AS(parse_server_options({}, env_of({}), "/bin"), doctest::Contains("COG_PREDICT_TYPE_STUB"),
                       cog::Error);
  CHECK_THROWS_WITH_AS(parse_server_options({"--x-mode", "train"}, env_of({}), "/bin"),
                       doctest::Contains("COG_TRAIN_TYPE_STUB"), cog::Error);
}

TEST_CASE("invalid COG_MAX_CONCURRENCY falls back") {
  const auto options =
      parse_server_options({}, env_of({{"COG_PREDICT_TYPE_STUB", "a.py:B"}, {"COG_MAX_CONCURRENCY", "x"}}), "/bin");
  CHECK(options.max_concurrency == 0);
}

TEST_CASE("HTTP limits come from COG_HTTP_* and a bad value is an error naming the variable") {
  std::map<std::string, std::string> vars = {{"COG_PREDICT_TYPE_STUB", "run.py:Runner"},
                                             {"COG_HTTP_MAX_CONNECTIONS", "64"},
                                             {"COG_HTTP_HEAD_TIMEOUT", "2.5"},
                                             {"COG_RUNNER_SHUTDOWN_GRACE_PERIOD", "30"}};
  const auto options = parse_server_options({}, env_of(vars), "/opt/cog/bin");
  CHECK(options.http.max_connections == 64u);
  CHECK(options.http.head_timeout == std::chrono::milliseconds(2500));
  CHECK(options.http.max_header_bytes == 65536u);  // the default
  CHECK(options.shutdown_grace_s == 30.0);
  for (const char* bad : {"ten", "-1", "inf", "1e400", "0"}) {
    vars["COG_HTTP_MAX_CONNECTIONS"] = bad;
    try {
      parse_server_options({}, env_of(vars), "/opt/cog/bin");
      FAIL("accepted COG_HTTP_MAX_CONNECTIONS=" << bad);
    } catch (const cog::Error& error) {
      CHECK(error.describe().find("COG_HTTP_MAX_CONNECTIONS") != std::string::npos);
    }
  }
}
