// cog-server: Cog's in-container HTTP API. Parses flags and environment, starts the worker and
// the HTTP server, and shuts both down on POST /shutdown, SIGTERM or SIGINT.
#include <curl/curl.h>
#include <httplib.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "support/error.hpp"
#include "runtime/server/guarded_server.hpp"
#include "runtime/server/http_api.hpp"
#include "runtime/server/options.hpp"
#include "runtime/server/shutdown_signal.hpp"
#include "runtime/server/supervisor.hpp"
#include "runtime/server/webhook.hpp"

using namespace cog::runtime::server;

namespace {

std::string self_dir() {
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : exe.parent_path().string();
}

// Turns SIGTERM / SIGINT into shutdown requests on a thread of their own.
void watch_signals(const sigset_t& signals, ShutdownSignal& shutdown, Logger& logger, bool ignore_term) {
  while (true) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGTERM && ignore_term) {
      logger.info("ignoring SIGTERM (--await-explicit-shutdown); POST /shutdown to stop");
      continue;
    }
    if (shutdown.requested() && signal_number == SIGINT) std::_Exit(130);  // second Ctrl-C
    shutdown.request(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  }
}

// Why binding host:port fails (cpp-httplib keeps the error to itself): a bind of our own.
int bind_error(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return EADDRNOTAVAIL;
  int error = 0;
  for (addrinfo* each = found; each; each = each->ai_next) {
    const int sock = socket(each->ai_family, each->ai_socktype, each->ai_protocol);
    if (sock < 0) continue;
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    error = bind(sock, each->ai_addr, each->ai_addrlen) == 0 ? 0 : errno;
    close(sock);
    if (error) break;
  }
  freeaddrinfo(found);
  return error;
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  try {
    options = parse_server_options(std::vector<std::string>(argv + 1, argv + argc), process_env(), self_dir());
  } catch (const cog::Error& error) {
    std::cerr << "cog-server: error: " << error.describe() << "\n";
    return 1;
  }
  if (options.show_version) {
    std::cout << server_version_line() << "\n";
    return 0;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread started below inherits this
  std::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  Logger logger(options.console_log, options.log_level);
  WebhookSettings webhook_settings;
  webhook_settings.auth_token = options.webhook_auth_token;
  webhook_settings.throttle_interval_s = options.throttle_interval_s;
  webhook_settings.user_agent = std::string("cog-server/") + COG_VERSION;
  WebhookSender webhooks(webhook_settings, logger);
  Supervisor supervisor(options, logger, webhooks);
  ShutdownSignal shutdown;

  GuardedServer http(options.http, [&logger](const std::string& peer, int status, const std::string& why) {
    logger.warn("refused a request from " + peer + " with " + std::to_string(status) + ": " + why);
  });
  install_routes(http, supervisor, shutdown, options);
  if (!http.bind_to_port(options.host.c_str(), options.port)) {
    const int error = bind_error(options.host, options.port);
    const bool in_use = error == EADDRINUSE;
    std::cerr << "cog-server: error: " << options.host << ":" << options.port << ": "
              << (in_use ? "port " + std::to_string(options.port) + " is in use by another server"
                         : std::string("cannot listen: ") + std::strerror(error))
              << " — stop the other server, or choose another port (PORT; `cog serve -p N`)\n";
    return 1;
  }
  logger.info("listening on " + options.host + ":" + std::to_string(options.port));
  std::thread signal_thread(watch_signals, signals, std::ref(shutdown), std::ref(logger),
                            options.await_explicit_shutdown);
  signal_thread.detach();
  supervisor.start();
  std::thread http_thread([&http] { http.listen_after_bind(); });

  logger.info("shutting down (" + shutdown.wait() + ")");
  supervisor.shutdown();
  http.stop();
  http_thread.join();
  webhooks.wait_idle(std::chrono::seconds(30));
  curl_global_cleanup();
  return 0;
}
