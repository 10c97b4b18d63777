#include "builder/exec/sandbox.hpp"

#include <sched.h>

#include "builder/exec/sandbox_mounts.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

// Removes the step's working directories on every way out of run_step.
class StepDirsGuard {
 public:
  explicit StepDirsGuard(StepDirs dirs) : dirs_(std::move(dirs)) {}
  ~StepDirsGuard() {
    std::error_code ignored;
    fs::remove_all(dirs_.root, ignored);
  }
  StepDirsGuard(const StepDirsGuard&) = delete;
  StepDirsGuard& operator=(const StepDirsGuard&) = delete;

 private:
  StepDirs dirs_;
};

void prepare_upper(const fs::path& upper) {
  std::error_code error;
  if (fs::exists(upper, error)) {
    if (!fs::is_directory(upper) || !fs::is_empty(upper))
      throw Error(ErrorKind::Validation, upper.string(), "upper directory is not empty",
                  "give every step a fresh upper directory");
    return;
  }
  fs::create_directories(upper, error);
  if (error) throw Error(ErrorKind::Io, upper.string(), error.message());
}

}  // namespace

ExitStatus run_step(const Rootfs& rootfs, const StepSpec& step, const LineSink& sink) {
  if (rootfs.upper.empty()) throw Error(ErrorKind::Usage, "build step", "no upper directory given");
  const auto binds = resolve_binds(step);
  const fs::path upper = fs::absolute(rootfs.upper).lexically_normal();
  prepare_upper(upper);

  StepDirs dirs{upper.parent_path() / (upper.filename().string() + ".sandbox")};
  std::error_code ignored;
  fs::remove_all(dirs.root, ignored);  // left by a cog that was killed mid-step
  StepDirsGuard guard(dirs);
  for (const auto& dir : {dirs.root, dirs.work(), dirs.merged()}) fs::create_directories(dir);
  build_skeleton(rootfs.lowers, mount_points(binds), dirs.skeleton());

  const auto ops = mount_ops(rootfs, step, dirs, binds);
  const auto plan = make_exec_plan(step.argv, step.env, step.workdir);
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (step.network == Network::None) flags |= CLONE_NEWNET;
  auto status = run_child(
      flags,
      [&](int failure_fd) {
        run_child_ops(ops, failure_fd);
        return run_as_init(plan, failure_fd);
      },
      sink, step.limits, "build step `" + step.argv.front() + "`");
  fs::remove_all(dirs.root, ignored);  // the work directory shares whiteout inodes with upper
  tidy_upper(upper);
  return status;
}

}  // namespace cog::builder::exec
