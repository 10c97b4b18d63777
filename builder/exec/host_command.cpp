#include "builder/exec/host_command.hpp"

#include <sched.h>
#include <sys/mount.h>

#include "builder/exec/child_ops.hpp"

namespace cog::builder::exec {

ExitStatus run_host_command(const HostCommand& command, const LineSink& sink) {
  const auto plan = make_exec_plan(command.argv, command.env, command.workdir);
  const std::vector<ChildOp> ops = {ChildOp::mount("/", "", "", MS_REC | MS_PRIVATE)};
  return run_child(
      CLONE_NEWNS | CLONE_NEWPID,
      [&](int failure_fd) {
        run_child_ops(ops, failure_fd);
        return run_as_init(plan, failure_fd);
      },
      sink, command.limits, "`" + command.argv.front() + "`");
}

}  // namespace cog::builder::exec
