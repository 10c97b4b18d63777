#pragma once
// The HTTP routes of Cog's in-container API (§4.2–4.10 of the reference), as handlers over a
// Supervisor.
#include <httplib.h>

#include "runtime/server/shutdown_signal.hpp"
#include "runtime/server/supervisor.hpp"

namespace cog::runtime::server {

// Registers every route on `server` and sets its options (keep-alive, TCP_NODELAY, body limit).
void install_routes(httplib::Server& server, Supervisor& supervisor, ShutdownSignal& shutdown,
                    const ServerOptions& options);

}  // namespace cog::runtime::server
