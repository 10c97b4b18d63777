#pragma once
// A cog-server child process on 127.0.0.1 serving a project from the host, as `cog run --local`
// and `cog serve --local` use it.
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/local/project.hpp"
#include "runtime/local/serve_settings.hpp"
#include "support/subprocess.hpp"

namespace cog::runtime::local {

struct LocalServerOptions : ServeSettings {
  std::vector<std::pair<std::string, std::string>> env;  // -e NAME=value, applied last
  std::vector<std::string> python_paths;                 // extra PYTHONPATH entries
};

class LocalServer {
 public:
  LocalServer(LocalProject project, RuntimeBinaries binaries, LocalServerOptions options);
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  void start();
  // Polls /health-check until READY. Throws cog::Error: `Model setup failed` (with the setup
  // logs), `cog-server exited unexpectedly`, or `Timed out` after `timeout_s`.
  void wait_ready(double timeout_s);
  // Waits for the server to exit by itself (cog serve); returns its exit status.
  int wait();
  // SIGTERM, then SIGKILL after a grace period.
  void stop();

  int port() const { return options_.port; }
  pid_t pid() const { return server_ ? server_->pid() : -1; }
  nlohmann::json get_json(const std::string& path) const;

 private:
  bool exited();
  LocalProject project_;
  RuntimeBinaries binaries_;
  LocalServerOptions options_;
  std::optional<support::Process> server_;  // empty once reaped
  int exit_status_ = 0;
};

int free_local_port();

}  // namespace cog::runtime::local
