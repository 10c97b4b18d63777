#include "runtime/local/local_server.hpp"
#include "runtime/local/readiness.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "support/error.hpp"

extern char** environ;

namespace cog::runtime::local {

using nlohmann::json;

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  if (port == 0) throw Error(ErrorKind::Io, "127.0.0.1", "cannot find a free port");
  return port;
}

LocalServer::LocalServer(LocalProject project, RuntimeBinaries binaries, LocalServerOptions options)
    : project_(std::move(project)), binaries_(std::move(binaries)), options_(std::move(options)) {}

LocalServer::~LocalServer() {
  if (server_) stop();
}

void LocalServer::start() {
  if (options_.port == 0) options_.port = free_local_port();
  const bool train = options_.mode == "train";
  const std::string& ref = train ? project_.train_ref : project_.run_ref;
  if (ref.empty()) {
    throw Error(ErrorKind::Validation, (project_.dir / "cog.yaml").string(),
                train ? "no `train` runner is configured" : "no `run` (or `predict`) runner is configured",
                train ? "add `train: \"train.py:train\"`" : "add `run: \"run.py:Runner\"`");
  }
  std::vector<std::pair<std::string, std::string>> overrides = project_.environment;
  overrides.insert(overrides.end(), {
                                        {"PORT", std::to_string(options_.port)},
                                        {train ? "COG_TRAIN_TYPE_STUB" : "COG_PREDICT_TYPE_STUB", ref},
                                        {"LOG_FORMAT", "console"},
                                        {"COG_LOG_LEVEL", log_level(options_)},
                                        {"COG_WORKER_BIN", binaries_.worker},
                                    });
  if (project_.max_concurrency > 0)
    overrides.emplace_back("COG_MAX_CONCURRENCY", std::to_string(project_.max_concurrency));
  std::string python_path;
  for (const auto& path : options_.python_paths) python_path += (python_path.empty() ? "" : ":") + path;
  if (const char* existing = std::getenv("PYTHONPATH"); existing && *existing) {
    python_path += (python_path.empty() ? "" : ":") + std::string(existing);
  }
  if (!python_path.empty()) overrides.emplace_back("PYTHONPATH", python_path);
  for (const auto& item : options_.env) overrides.push_back(item);

  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    const std::string item = *entry;
    const std::string name = item.substr(0, item.find('='));
    bool replaced = false;
    for (const auto& [key, value] : overrides) replaced = replaced || key == name;
    if (!replaced) env.push_back(item);
  }
  for (const auto& [key, value] : overrides) env.push_back(key + "=" + value);

  std::vector<std::string> args = server_flags(options_);
  args.insert(args.begin(), binaries_.server);

  support::SpawnOptions spawn;
  spawn.env = std::move(env);
  spawn.cwd = project_.dir;
  spawn.fd_map = {{STDERR_FILENO, STDOUT_FILENO}};  // stdout carries only prediction output; logs go to stderr
  server_.emplace(support::Process::spawn(args, spawn));
}

bool LocalServer::exited() {
  if (!server_) return true;
  if (!server_->exited()) return false;
  exit_status_ = server_->wait().exit_code;
  server_.reset();
  return true;
}

json LocalServer::get_json(const std::string& path) const { return get_server_json(options_.port, path); }

void LocalServer::wait_ready(double timeout_s) {
  wait_until_ready(
      options_.port, timeout_s, [this] { return exited(); }, "cog-server");
}

int LocalServer::wait() {
  if (!server_) return 0;
  const int code = server_->wait().exit_code;
  server_.reset();
  return code;
}

void LocalServer::stop() {
  if (exited()) return;
  server_->signal(SIGTERM);
  for (int i = 0; i < 100 && !exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!exited()) {
    server_->signal(SIGKILL);
    wait();
  }
}

}  // namespace cog::runtime::local
