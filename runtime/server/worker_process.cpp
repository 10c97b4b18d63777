#include "runtime/server/worker_process.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <condition_variable>
#include <vector>

#include "support/error.hpp"
#include "runtime/ipc/frame.hpp"

extern char** environ;

namespace cog::runtime::server {

using nlohmann::json;

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "stopped (status " + std::to_string(status) + ")";
}

WorkerProcess::WorkerProcess(WorkerLaunch launch, OnFrame on_frame, OnExit on_exit)
    : launch_(std::move(launch)), on_frame_(std::move(on_frame)), on_exit_(std::move(on_exit)) {}

WorkerProcess::~WorkerProcess() {
  if (pid_ > 0) kill_now();
  if (reader_.joinable()) reader_.join();
  if (fd_ >= 0) ::close(fd_);
}

void WorkerProcess::start() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw Error(ErrorKind::Runtime, "cog-server", "cannot create the worker socket");
  }
  std::vector<std::string> args = {launch_.binary, "--control-fd",  "3",
                                   "--ref",        launch_.ref,     "--mode",
                                   launch_.mode,   "--project-dir", launch_.project_dir};
  if (!launch_.upload_url.empty()) {
    args.push_back("--upload-url");
    args.push_back(launch_.upload_url);
  }
  std::vector<std::string> env;
  std::string python_path;
  for (char** entry = environ; *entry; ++entry) {
    std::string item = *entry;
    if (item.starts_with("PYTHONPATH=")) {
      python_path = item.substr(11);
      continue;
    }
    if (item.starts_with("PYTHONUNBUFFERED=")) continue;
    env.push_back(std::move(item));
  }
  if (!launch_.sdk_dir.empty()) {
    python_path = python_path.empty() ? launch_.sdk_dir : launch_.sdk_dir + ":" + python_path;
  }
  if (!python_path.empty()) env.push_back("PYTHONPATH=" + python_path);
  env.push_back("PYTHONUNBUFFERED=1");
  support::SpawnOptions options;
  options.env = std::move(env);
  options.cwd = launch_.project_dir;
  options.new_process_group = true;  // Ctrl-C on a terminal reaches the server, which stops the worker itself
  options.die_with_parent = true;
  options.fd_map = {{fds[1], 3}};  // the control socket, where --control-fd says
  try {
    process_.emplace(support::Process::spawn(args, options));
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  fd_ = fds[0];
  pid_ = process_->pid();
  reader_ = std::thread([this] { read_loop(); });
}

bool WorkerProcess::send(const json& frame) {
  const std::string payload = frame.dump(-1, ' ', false, json::error_handler_t::replace);
  std::lock_guard lock(send_mutex_);
  return fd_ >= 0 && ipc::write_frame(fd_, payload);
}

void WorkerProcess::read_loop() {
  const bool clean = ipc::read_frames(fd_, [this](std::string payload) {
    json frame = json::parse(payload, nullptr, false);
    if (frame.is_object()) on_frame_(frame);
  });
  if (!clean) ::kill(pid_, SIGKILL);  // a protocol error: the worker cannot be trusted any more
  const int status = process_->wait().wait_status;
  {
    std::lock_guard lock(exit_mutex_);
    exited_ = true;
    exited_cv_.notify_all();
  }
  on_exit_(describe_wait_status(status));
}

void WorkerProcess::stop(std::chrono::milliseconds grace) {
  send(json{{"type", "shutdown"}});
  std::unique_lock lock(exit_mutex_);
  if (!exited_cv_.wait_for(lock, grace, [&] { return exited_; })) {
    ::kill(pid_, SIGKILL);
    exited_cv_.wait(lock, [&] { return exited_; });
  }
}

void WorkerProcess::kill_now() {
  std::lock_guard lock(exit_mutex_);
  if (!exited_) ::kill(pid_, SIGKILL);
}

}  // namespace cog::runtime::server
