#pragma once
// Notices that the HTTP client of a request has gone away. cpp-httplib 0.11 hands a handler no
// socket and never tells it about a disconnect, so the socket is found among the process's file
// descriptors by the request's two endpoints, then polled for a hang-up while the handler waits.
#include <httplib.h>

namespace cog::runtime::server {

class ClientConnection {
 public:
  // Finds the socket that carries `req`; without one (not found) `gone()` is always false.
  explicit ClientConnection(const httplib::Request& req);

  // True once the peer has closed or reset the connection (POLLRDHUP/POLLHUP/POLLERR).
  bool gone() const;
  bool found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;  // owned by cpp-httplib, open for as long as the handler runs
};

}  // namespace cog::runtime::server
