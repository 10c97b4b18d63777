#pragma once
// cog-server's HTTP front. cpp-httplib (0.11 in Debian 12) routes and answers requests, but its
// connection loop trusts the client: unbounded heads, per-read timeouts only (a byte a second
// keeps a connection forever), a fixed thread pool that idle clients can fill, ambiguous framing
// accepted. GuardedServer replaces that loop: it reads each request head itself within
// HttpLimits (size, count, a deadline for the whole head), refuses bad framing before cpp-httplib
// sees it, bounds the body's time and size, and shares threads out so that slow or idle clients
// cannot starve predictions or health checks.
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/server/connection_threads.hpp"
#include "runtime/server/http_limits.hpp"

namespace cog::runtime::server {

class GuardedServer : public httplib::Server {
 public:
  using RefusalLog = std::function<void(const std::string& peer, int status, const std::string& why)>;

  GuardedServer(HttpLimits limits, RefusalLog on_refusal);

  const HttpLimits& limits() const { return limits_; }

 private:
  // How a connection was let in: within the budget, past it (one quick health check, nothing
  // else), or not at all.
  enum class Admission { Normal, Probe, Refused };
  struct Connection;

  bool process_and_close_socket(socket_t sock) override;
  Admission admit();
  void release(Connection& connection, Admission admission);
  bool wait_for_request(int fd, std::chrono::milliseconds limit, const Connection& connection) const;
  void refuse(int fd, const std::string& peer, int status, const std::string& why);

  HttpLimits limits_;
  RefusalLog on_refusal_;
  std::mutex connections_mutex_;
  std::size_t normal_connections_ = 0;
  std::size_t probe_connections_ = 0;
  std::list<Connection*> idle_;  // kept-alive connections waiting for their next request
};

}  // namespace cog::runtime::server
