#include "runtime/local/readiness.hpp"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "support/error.hpp"

namespace cog::runtime::local {

using nlohmann::json;

void wait_until_ready(int port, double timeout_s, const std::function<bool()>& exited, const std::string& who) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 250000);
  client.set_read_timeout(6, 0);
  while (true) {
    if (exited()) throw Error(ErrorKind::Runtime, who, "exited unexpectedly", "see the messages above");
    if (auto response = client.Get("/health-check")) {
      const json health = json::parse(response->body, nullptr, false);
      const std::string status = health.is_object() ? health.value("status", "") : "";
      if (status == "READY" || status == "BUSY" || status == "UNHEALTHY") return;
      if (status == "SETUP_FAILED") {
        const std::string logs = health.value("/setup/logs"_json_pointer, std::string());
        throw Error(ErrorKind::Runtime, "setup", "Model setup failed" + (logs.empty() ? "" : ":\n" + logs));
      }
      if (status != "STARTING" && status != "UNKNOWN" && !status.empty()) {
        throw Error(ErrorKind::Runtime, who, "healthcheck returned unexpected status: " + status);
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw Error(ErrorKind::Runtime, "setup", "Timed out", "raise --setup-timeout");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

json get_server_json(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 250000);
  client.set_read_timeout(10, 0);
  auto response = client.Get(path);
  if (!response) return json();
  return json::parse(response->body, nullptr, false);
}

}  // namespace cog::runtime::local
