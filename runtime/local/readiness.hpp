#pragma once
// Waiting for a cog-server to finish setup, the way Cog's CLI does (§1.4 "Readiness").
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace cog::runtime::local {

// Polls GET /health-check on 127.0.0.1:port every 100 ms until READY (or BUSY/UNHEALTHY).
// Throws cog::Error: `Model setup failed` with the setup logs, `<who> exited unexpectedly` when
// `exited()` turns true, an unexpected status, or `Timed out` after timeout_s.
void wait_until_ready(int port, double timeout_s, const std::function<bool()>& exited, const std::string& who);

// GET path on 127.0.0.1:port as JSON; throws cog::Error when the server does not answer.
nlohmann::json get_server_json(int port, const std::string& path);

}  // namespace cog::runtime::local
