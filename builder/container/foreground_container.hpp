#pragma once
// A container that a CLI runs in the foreground (`runc run`, `docker run`): the CLI's process stands
// for the container's, signals go through the CLI so they reach the container's init, and the
// container is removed on every exit path. Runtimes differ only in the commands.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace cog::builder::container {

struct ContainerCommands {
  std::vector<std::string> run;                              // starts it in the foreground
  std::function<std::vector<std::string>(int signal)> kill;  // signals its init
  std::vector<std::string> remove;                           // removes it; fails harmlessly when gone
};

class ForegroundContainer {
 public:
  ForegroundContainer(std::string id, ContainerCommands commands, const support::SpawnOptions& io);
  virtual ~ForegroundContainer();  // kills, waits for and removes the container if it is still there
  ForegroundContainer(const ForegroundContainer&) = delete;
  ForegroundContainer& operator=(const ForegroundContainer&) = delete;

  const std::string& id() const { return id_; }
  // Sends a signal to the container's init; nothing once it has been waited for.
  void kill(int signal_number);
  // Whether the container's process has exited (non-blocking).
  bool exited();
  // Waits for the container's process to exit, then removes it; its exit code (128+signal when killed).
  support::ProcessResult wait();

 private:
  void remove();

  std::string id_;
  ContainerCommands commands_;
  std::optional<support::Process> process_;
  bool finished_ = false;
};

}  // namespace cog::builder::container
