#pragma once
// The cog-worker child process and the control socket to it. Frames from the worker arrive on a
// reader thread; when the worker exits (cleanly or not) on_exit is called once.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace cog::runtime::server {

struct WorkerLaunch {
  std::string binary;
  std::string ref;
  std::string mode = "predict";
  std::string project_dir;
  std::string upload_url;
  std::string sdk_dir;  // first on PYTHONPATH, so our cog package wins over an installed one
};

class WorkerProcess {
 public:
  using OnFrame = std::function<void(const nlohmann::json& frame)>;
  using OnExit = std::function<void(const std::string& how)>;

  WorkerProcess(WorkerLaunch launch, OnFrame on_frame, OnExit on_exit);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Throws cog::Error when the process cannot be started.
  void start();
  // False when the worker is gone.
  bool send(const nlohmann::json& frame);
  // Asks the worker to stop, then kills it after `grace`; returns once it has exited.
  void stop(std::chrono::milliseconds grace);
  void kill_now();
  pid_t pid() const { return pid_; }

 private:
  void read_loop();

  WorkerLaunch launch_;
  OnFrame on_frame_;
  OnExit on_exit_;
  int fd_ = -1;
  std::optional<support::Process> process_;  // waited for by the reader thread alone
  pid_t pid_ = -1;                           // what kill_now() signals while the reader waits
  std::thread reader_;
  std::mutex send_mutex_;
  std::mutex exit_mutex_;
  bool exited_ = false;
  std::condition_variable exited_cv_;
};

// "exited with code 3", "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

}  // namespace cog::runtime::server
