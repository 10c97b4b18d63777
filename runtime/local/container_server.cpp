#include "runtime/local/container_server.hpp"

#include <httplib.h>

#include <csignal>
#include <chrono>
#include <thread>

#include "support/error.hpp"
#include "runtime/local/local_server.hpp"
#include "runtime/local/readiness.hpp"

namespace cog::runtime::local {

ContainerServer::ContainerServer(ContainerServerOptions options) : options_(std::move(options)) {
  if (options_.port == 0) options_.port = free_local_port();
  builder::container::ImageRunOptions run;
  run.image = options_.image;
  run.runtime = options_.runtime;
  run.gpus = options_.gpus;
  run.project_dir = options_.project_dir;
  run.binds = options_.binds;
  run.env = {"PORT=" + std::to_string(options_.port), "LOG_FORMAT=console",
             std::string("COG_LOG_LEVEL=") + log_level(options_)};
  run.env.insert(run.env.end(), options_.env.begin(), options_.env.end());
  run.extra_args = server_flags(options_);
  container_ = std::make_unique<builder::container::ImageContainer>(run);
  if (!container_->labels().count("run.cog.version") && !options_.project_dir) {
    throw Error(ErrorKind::Validation, options_.image, "is not a Cog image (it has no run.cog.* labels)",
                "build it with cog build");
  }
}

ContainerServer::~ContainerServer() { stop(); }

void ContainerServer::start() { container_->start(); }

void ContainerServer::wait_ready(double timeout_s) {
  wait_until_ready(
      options_.port, timeout_s, [this] { return !container_->running(); }, "the container");
}

int ContainerServer::wait() { return container_ ? container_->wait().exit_code : 0; }

bool ContainerServer::running() { return container_ && container_->running(); }

void ContainerServer::stop() {
  if (!container_ || !container_->running()) return;
  // The server's own graceful exit first (POST /shutdown, which Cog's servers and ours answer):
  // Cog's Python launcher prints a KeyboardInterrupt traceback when SIGINT ends it.
  {
    httplib::Client client("127.0.0.1", options_.port);
    client.set_connection_timeout(0, 250000);
    client.set_read_timeout(1, 0);
    if (client.Post("/shutdown")) {
      for (int i = 0; i < 30 && container_->running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  if (container_->running()) container_->signal(SIGINT);
  for (int i = 0; i < 100 && container_->running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  container_->stop();
}

nlohmann::json ContainerServer::get_json(const std::string& path) const { return get_server_json(options_.port, path); }

nlohmann::json ContainerServer::labelled_schema() const {
  const auto& labels = container_->labels();
  auto found = labels.find("run.cog.openapi_schema");
  if (found == labels.end()) return nullptr;
  return nlohmann::json::parse(found->second, nullptr, false);
}

}  // namespace cog::runtime::local
