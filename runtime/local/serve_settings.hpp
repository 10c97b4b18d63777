#pragma once
// What the two ways of running cog-server locally share (a host process, LocalServer, or a
// container, ContainerServer): where it listens and how it serves.
#include <string>
#include <vector>

namespace cog::runtime::local {

struct ServeSettings {
  std::string host = "127.0.0.1";
  int port = 0;                  // 0 = pick a free one
  std::string mode = "predict";  // predict | train
  std::string upload_url;
  bool await_explicit_shutdown = false;
  bool debug = false;  // COG_LOG_LEVEL=debug instead of warning
};

// cog-server's flags for them, without the binary: --host, and --x-mode train, --upload-url and
// --await-explicit-shutdown when set. The port goes in PORT (as in Cog's images).
std::vector<std::string> server_flags(const ServeSettings& settings);

// "debug" or "warning", for COG_LOG_LEVEL.
inline const char* log_level(const ServeSettings& settings) { return settings.debug ? "debug" : "warning"; }

}  // namespace cog::runtime::local
