#pragma once
// A command run on the host's file system but in private mount and pid namespaces: whatever it
// mounts (debootstrap mounts /proc and /sys in its target) disappears with it, and a timeout or
// a stop request kills it and every process it started.
#include <string>
#include <vector>

#include "builder/exec/output.hpp"
#include "builder/exec/process.hpp"

namespace cog::builder::exec {

struct HostCommand {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value: exactly what the command sees
  std::string workdir = "/";
  RunLimits limits;
};

ExitStatus run_host_command(const HostCommand& command, const LineSink& sink);

}  // namespace cog::builder::exec
