#include "builder/container/oci_runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "builder/support/error.hpp"
#include "builder/support/scratch_dir.hpp"

namespace cog::builder::container {
namespace {

bool hybrid_cgroups() { return std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.controllers"); }

}  // namespace

OciRuntime detect_runtime(const std::string& preferred) {
  std::vector<std::pair<std::string, RuntimeKind>> candidates = {{"runc", RuntimeKind::Runc},
                                                                 {"crun", RuntimeKind::Crun}};
  if (!preferred.empty() && preferred != "runc" && preferred != "crun") {
    throw Error(ErrorKind::Usage, "--runtime", "unknown OCI runtime \"" + preferred + "\"",
                "use runc or crun (or docker/podman where installed)");
  }
  for (const auto& [name, kind] : candidates) {
    if (!preferred.empty() && preferred != name) continue;
    if (auto path = support::find_program(name)) return {kind, *path};
  }
  throw Error(ErrorKind::NotFound, preferred.empty() ? "OCI runtime" : preferred,
              "no OCI runtime found on PATH",
              "install runc or crun (Debian: apt-get install runc)");
}

std::vector<std::string> runtime_command(const OciRuntime& runtime, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (runtime.kind == RuntimeKind::Crun && hybrid_cgroups()) {
    argv = {"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            "mount -t tmpfs cog-hide-unified /sys/fs/cgroup/unified && exec \"$0\" \"$@\""};
  }
  argv.push_back(runtime.binary.string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string new_container_id(const std::string& prefix) {
  std::random_device device;
  std::uniform_int_distribution<unsigned> hex(0, 15);
  std::string id = prefix + "-";
  for (int i = 0; i < 12; ++i) id += "0123456789abcdef"[hex(device)];
  return id;
}

Bundle::Bundle(const std::filesystem::path& parent, const ContainerSpec& spec) {
  dir_ = support::make_unique_dir(parent, "bundle-");
  std::ofstream config(dir_ / "config.json");
  config << runtime_spec(spec).dump(2) << "\n";
  if (!config) {
    throw Error(ErrorKind::Io, (dir_ / "config.json").string(), "could not write the bundle config", "");
  }
}

Bundle::~Bundle() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Container::Container(const OciRuntime& runtime, const Bundle& bundle, std::string id,
                     const support::SpawnOptions& io)
    : runtime_(runtime), id_(std::move(id)) {
  support::SpawnOptions options = io;
  options.cwd = bundle.dir();
  process_.emplace(support::Process::spawn(
      runtime_command(runtime_, {"run", "--bundle", bundle.dir().string(), id_}), options));
}

Container::~Container() {
  if (!finished_ && process_) {
    kill(SIGKILL);
    process_->wait();
  }
  remove();
}

void Container::kill(int signal_number) {
  if (finished_) return;
  support::run_captured(runtime_command(runtime_, {"kill", id_, std::to_string(signal_number)}));
}

bool Container::exited() { return finished_ || process_->exited(); }

support::ProcessResult Container::wait() {
  auto result = process_->wait();
  finished_ = true;
  remove();
  return result;
}

void Container::remove() {
  // `delete --force` on a container that is already gone fails harmlessly.
  support::run_captured(runtime_command(runtime_, {"delete", "--force", id_}));
}

}  // namespace cog::builder::container
