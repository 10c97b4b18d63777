// About 400 lines: the connection loop, the head reader and the body stream it hands cpp-httplib
// share the limits and the deadlines, and read best together (connection_threads.cpp holds the
// threads they run on).
#include "runtime/server/guarded_server.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace cog::runtime::server {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often a waiting connection looks whether the server stops or evicts it.
constexpr milliseconds kSlice{250};
// Connections past max_connections may ask one quick GET /health-check (a liveness probe must
// not fail because clients hold every connection), within this budget.
constexpr std::size_t kMaxProbeConnections = 64;
constexpr milliseconds kProbeTimeout{2000};
constexpr std::size_t kReadChunk = 16 * 1024;

milliseconds until(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(deadline - Clock::now()));
}

// poll() for `events` on `fd`: > 0 ready (or hung up), 0 timed out, < 0 failed.
int wait_fd(int fd, short events, milliseconds timeout) {
  pollfd watch{fd, events, 0};
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const int ready = ::poll(&watch, 1, static_cast<int>(until(deadline).count()));
    if (ready >= 0 || errno != EINTR) return ready;
  }
}

std::string endpoint_of(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  char host[NI_MAXHOST] = "?";
  char port[NI_MAXSERV] = "?";
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    ::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof host, port, sizeof port,
                  NI_NUMERICHOST | NI_NUMERICSERV);
  }
  return std::string(host) + ":" + port;
}

void ip_and_port(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const int got = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
                       : ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (got != 0 || ::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof host, service,
                                sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(service);
}

bool send_all(int fd, std::string_view data, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    if (wait_fd(fd, POLLOUT, until(deadline)) <= 0) return false;
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

std::string error_response(int status, const std::string& why) {
  const std::string body =
      nlohmann::json{{"error", why}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// After an answer that ends the connection: stop sending, then read and drop what the client is
// still sending for a moment, since closing with unread data resets the connection and the
// client may lose the answer.
void lingering_close(int fd) {
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  std::size_t drained = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  while (drained < (1u << 20) && wait_fd(fd, POLLIN, until(deadline)) > 0) {
    const ssize_t got = ::recv(fd, sink, sizeof sink, 0);
    if (got <= 0) break;
    drained += static_cast<std::size_t>(got);
  }
}

// One request's bytes for cpp-httplib: first the head (and whatever followed it) that the
// connection loop already read, then the body from the socket, never past what the head framed:
// Content-Length bytes, a capped chunked body, or nothing at all (RFC 9112 §6.3: a request with
// neither header has no body). A body that is late or too large is answered here (408/413) and
// the connection ends.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, std::string& buffered, std::size_t head_size, const HeadFraming& framing,
                   const HttpLimits& limits, milliseconds read_timeout, milliseconds write_timeout)
      : fd_(fd),
        buffered_(buffered),
        read_timeout_(read_timeout),
        write_timeout_(write_timeout),
        body_deadline_(Clock::now() + limits.body_timeout),
        body_timeout_(limits.body_timeout),
        chunked_(framing.chunked) {
    if (framing.chunked) {
      // The cap counts chunk framing too: allow for it generously.
      end_ = head_size + limits.max_body_bytes + limits.max_body_bytes / 8 + 64 * 1024;
    } else {
      end_ = head_size + static_cast<std::size_t>(framing.content_length.value_or(0));
    }
  }

  bool is_readable() const override { return offset_ < buffered_.size() || wait_fd(fd_, POLLIN, read_timeout_) > 0; }
  bool is_writable() const override { return !failed_ && wait_fd(fd_, POLLOUT, write_timeout_) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (failed_) return -1;
    if (offset_ >= end_) {
      if (!chunked_) return 0;  // the framed body is over
      fail(413, "the chunked request body is larger than the server accepts");
      return -1;
    }
    size = std::min(size, end_ - offset_);
    if (offset_ < buffered_.size()) {
      const std::size_t taken = std::min(size, buffered_.size() - offset_);
      std::memcpy(ptr, buffered_.data() + offset_, taken);
      offset_ += taken;
      return static_cast<ssize_t>(taken);
    }
    const auto wait = std::min(read_timeout_, until(body_deadline_));
    if (wait_fd(fd_, POLLIN, wait) <= 0) {
      fail(408, "the request body did not arrive in time (" + std::to_string(body_timeout_.count() / 1000) +
                    " s for the whole body, " + std::to_string(read_timeout_.count() / 1000) + " s between bytes)");
      return -1;
    }
    ssize_t got;
    do {
      got = ::recv(fd_, ptr, size, 0);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
      failed_ = true;
      return -1;
    }
    offset_ += static_cast<std::size_t>(got);
    return got;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (failed_) return -1;
    if (wait_fd(fd_, POLLOUT, write_timeout_) <= 0) return -1;
    ssize_t sent;
    do {
      sent = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip_and_port(fd_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip_and_port(fd_, false, ip, port); }
  socket_t socket() const override { return fd_; }

  bool failed() const { return failed_; }
  const std::optional<HeadRefusal>& refusal() const { return refusal_; }
  // True when every byte the head framed was read: the connection can carry the next request.
  bool body_complete() const { return chunked_ || offset_ >= end_; }
  // What was read past this request: the start of a pipelined next one.
  std::string take_rest() { return offset_ < buffered_.size() ? buffered_.substr(offset_) : std::string(); }

 private:
  void fail(int status, const std::string& why) {
    failed_ = true;
    refusal_ = HeadRefusal{status, why};
    send_all(fd_, error_response(status, why), write_timeout_);
  }

  const int fd_;
  std::string& buffered_;
  const milliseconds read_timeout_;
  const milliseconds write_timeout_;
  const Clock::time_point body_deadline_;
  const milliseconds body_timeout_;
  const bool chunked_;
  std::size_t offset_ = 0;  // into the request's bytes; buffered_ holds the first ones
  std::size_t end_ = 0;     // the request's last byte + 1, as its head frames it
  bool failed_ = false;
  std::optional<HeadRefusal> refusal_;
};

enum class HeadState { Complete, Closed, TimedOut, LineTooLong, TooLarge, BareLineFeed, Stopped };

// Reads a request head into `buffered` (which may hold the start of it already): everything up to
// the empty line, within the limits and `timeout` for the whole head. Empty lines before the
// request line are dropped. When Complete, `head_end` is where the final "\r\n\r\n" starts.
HeadState read_head(const httplib::Server& server, int fd, const HttpLimits& limits, milliseconds timeout,
                    std::string& buffered, std::size_t& head_end) {
  const auto deadline = Clock::now() + timeout;
  std::size_t searched = 0;
  char chunk[kReadChunk];
  while (true) {
    std::size_t blank = 0;  // RFC 9112 §2.2: empty lines before a request line are ignored
    while (buffered.compare(blank, 2, "\r\n") == 0) blank += 2;
    if (blank > 0) {
      buffered.erase(0, blank);
      searched = 0;
    }
    head_end = buffered.find("\r\n\r\n", searched);
    if (head_end != std::string::npos) return HeadState::Complete;
    searched = buffered.size() > 3 ? buffered.size() - 3 : 0;
    const auto line_end = buffered.find("\r\n");
    if ((line_end == std::string::npos ? buffered.size() : line_end) > limits.max_request_line_bytes) {
      return HeadState::LineTooLong;
    }
    if (buffered.size() > limits.max_header_bytes + 4) return HeadState::TooLarge;
    if (!server.is_running()) return HeadState::Stopped;
    const auto left = until(deadline);
    if (left.count() == 0) return HeadState::TimedOut;
    const int ready = wait_fd(fd, POLLIN, std::min(left, kSlice));
    if (ready == 0) continue;
    ssize_t got = -1;
    if (ready > 0) {
      do {
        got = ::recv(fd, chunk, sizeof chunk, 0);
      } while (got < 0 && errno == EINTR);
    }
    if (got <= 0) return HeadState::Closed;
    const std::size_t appended_at = buffered.size();
    buffered.append(chunk, static_cast<std::size_t>(got));
    // A line ending in a bare LF would never end the head: refuse it now, not at the deadline.
    for (auto lf = buffered.find('\n', appended_at); lf != std::string::npos; lf = buffered.find('\n', lf + 1)) {
      if (lf == 0 || buffered[lf - 1] != '\r') return HeadState::BareLineFeed;
    }
  }
}

}  // namespace

struct GuardedServer::Connection {
  int fd = -1;
  std::string peer;
  bool idle = false;  // in idle_; guarded by connections_mutex_
  std::list<Connection*>::iterator idle_entry;
  std::atomic<bool> evicted{false};
};

GuardedServer::GuardedServer(HttpLimits limits, RefusalLog on_refusal)
    : limits_(limits), on_refusal_(std::move(on_refusal)) {
  const std::size_t max_threads = limits_.max_connections + kMaxProbeConnections + 16;
  new_task_queue = [max_threads] { return new ConnectionThreads(max_threads); };
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second server binds the same
  // port and the kernel splits clients between two models. Address reuse alone is enough.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

GuardedServer::Admission GuardedServer::admit() {
  std::lock_guard lock(connections_mutex_);
  if (normal_connections_ < limits_.max_connections) {
    ++normal_connections_;
    return Admission::Normal;
  }
  if (!idle_.empty()) {  // the longest-idle kept-alive connection makes room
    Connection* oldest = idle_.front();
    idle_.pop_front();
    oldest->idle = false;
    oldest->evicted = true;
    ++normal_connections_;
    return Admission::Normal;
  }
  if (probe_connections_ < kMaxProbeConnections) {
    ++probe_connections_;
    return Admission::Probe;
  }
  return Admission::Refused;
}

void GuardedServer::release(Connection& connection, Admission admission) {
  std::lock_guard lock(connections_mutex_);
  if (connection.idle) {
    idle_.erase(connection.idle_entry);
    connection.idle = false;
  }
  if (admission == Admission::Normal) --normal_connections_;
  if (admission == Admission::Probe) --probe_connections_;
}

bool GuardedServer::wait_for_request(int fd, milliseconds limit, const Connection& connection) const {
  const auto deadline = Clock::now() + limit;
  while (is_running() && !connection.evicted) {
    const auto left = until(deadline);
    if (left.count() == 0) return false;
    const int ready = wait_fd(fd, POLLIN, std::min(left, kSlice));
    if (ready != 0) return ready > 0;
  }
  return false;
}

void GuardedServer::refuse(int fd, const std::string& peer, int status, const std::string& why) {
  if (on_refusal_) on_refusal_(peer, status, why);
  if (send_all(fd, error_response(status, why), milliseconds(2000))) lingering_close(fd);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  Connection connection;
  connection.fd = sock;
  connection.peer = endpoint_of(sock);
  const Admission admission = admit();
  const auto read_timeout = milliseconds(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
  const auto write_timeout = milliseconds(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
  if (admission == Admission::Refused) {
    refuse(sock, connection.peer, 503,
           "the server has " + std::to_string(limits_.max_connections) + " connections open; try again later");
    ::close(sock);
    return true;
  }
  const bool probe = admission == Admission::Probe;
  const auto head_timeout = probe ? kProbeTimeout : limits_.head_timeout;

  std::string buffered;
  std::size_t served = 0;
  while (is_running()) {
    if (buffered.empty()) {
      if (served > 0) {
        std::lock_guard lock(connections_mutex_);
        connection.idle_entry = idle_.insert(idle_.end(), &connection);
        connection.idle = true;
      }
      const bool ready = wait_for_request(sock, served == 0 ? head_timeout : limits_.idle_timeout, connection);
      {
        std::lock_guard lock(connections_mutex_);
        if (connection.idle) {
          idle_.erase(connection.idle_entry);
          connection.idle = false;
        }
      }
      if (!ready) break;
    }

    std::size_t head_end = std::string::npos;
    const HeadState state = read_head(*this, sock, limits_, head_timeout, buffered, head_end);
    if (state == HeadState::Closed || state == HeadState::Stopped) break;
    if (state == HeadState::TimedOut) {
      refuse(sock, connection.peer, 408,
             "the request head did not arrive within " + std::to_string(head_timeout.count() / 1000) + " s");
      break;
    }
    if (state == HeadState::LineTooLong) {
      refuse(sock, connection.peer, 414,
             "the request line is longer than " + std::to_string(limits_.max_request_line_bytes) + " bytes");
      break;
    }
    if (state == HeadState::BareLineFeed) {
      refuse(sock, connection.peer, 400, "a line of the request head ends in LF without CR");
      break;
    }
    if (state == HeadState::TooLarge) {
      refuse(sock, connection.peer, 431,
             "the request head is larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
      break;
    }
    const HeadCheck check = check_request_head(std::string_view(buffered).substr(0, head_end + 2), limits_);
    if (check.refusal) {
      refuse(sock, connection.peer, check.refusal->status, check.refusal->message);
      break;
    }
    if (probe &&
        !(check.framing.method == "GET" && (check.framing.target == "/health-check" || check.framing.target == "/"))) {
      refuse(sock, connection.peer, 503,
             "the server has " + std::to_string(limits_.max_connections) +
                 " connections open; only GET /health-check is answered now, try again later");
      break;
    }

    ConnectionStream stream(sock, buffered, head_end + 4, check.framing, limits_, read_timeout, write_timeout);
    ++served;
    const bool close_after = probe || served >= keep_alive_max_count_ || !is_running();
    bool connection_closed = false;
    const bool ok = process_request(stream, close_after, connection_closed, nullptr);
    if (stream.refusal() && on_refusal_) {
      on_refusal_(connection.peer, stream.refusal()->status, stream.refusal()->message);
    }
    if (!ok || connection_closed || close_after || stream.failed() || !stream.body_complete()) break;
    buffered = stream.take_rest();
  }
  release(connection, admission);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return true;
}

}  // namespace cog::runtime::server
