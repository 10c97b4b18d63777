// The cog-server flags both local servers (host process and container) pass.
#include <doctest/doctest.h>

#include "runtime/local/container_server.hpp"
#include "runtime/local/local_server.hpp"
#include "runtime/local/serve_settings.hpp"

using namespace cog::runtime::local;

TEST_CASE("a prediction server on the default host gets only --host") {
  CHECK(server_flags(ServeSettings{}) == std::vector<std::string>{"--host", "127.0.0.1"});
  CHECK(std::string(log_level(ServeSettings{})) == "warning");
}

TEST_CASE("training, uploads and explicit shutdown each add their flag, for either server") {
  LocalServerOptions local;
  local.host = "0.0.0.0";
  local.mode = "train";
  local.upload_url = "http://127.0.0.1:9/upload/";
  local.await_explicit_shutdown = true;
  local.debug = true;
  const std::vector<std::string> expected = {"--host",
                                             "0.0.0.0",
                                             "--x-mode",
                                             "train",
                                             "--upload-url",
                                             "http://127.0.0.1:9/upload/",
                                             "--await-explicit-shutdown",
                                             "true"};
  CHECK(server_flags(local) == expected);
  CHECK(std::string(log_level(local)) == "debug");
  ContainerServerOptions container;
  static_cast<ServeSettings&>(container) = local;
  CHECK(server_flags(container) == expected);
}
