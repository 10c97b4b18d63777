#include "builder/container/oci_runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "support/error.hpp"
#include "support/scratch_dir.hpp"

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
  throw Error(ErrorKind::NotFound, preferred.empty() ? "OCI runtime" : preferred, "no OCI runtime found on PATH",
              "install runc or crun (Debian: apt-get install runc)");
}

std::vector<std::string> runtime_command(const OciRuntime& runtime, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (runtime.kind == RuntimeKind::Crun && hybrid_cgroups()) {
    argv = {"unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
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
  ContainerSpec with_files = spec;
  write_network_files(with_files, dir_);
  std::ofstream config(dir_ / "config.json");
  config << runtime_spec(with_files).dump(2) << "\n";
  if (!config) {
    throw Error(ErrorKind::Io, (dir_ / "config.json").string(), "could not write the bundle config", "");
  }
}

Bundle::~Bundle() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

namespace {

support::SpawnOptions in_bundle(support::SpawnOptions io, const Bundle& bundle) {
  io.cwd = bundle.dir();
  return io;
}

}  // namespace

ContainerCommands container_commands(const OciRuntime& runtime, const Bundle& bundle, const std::string& id) {
  return {runtime_command(runtime, {"run", "--bundle", bundle.dir().string(), id}),
          [runtime, id](int signal_number) {
            return runtime_command(runtime, {"kill", id, std::to_string(signal_number)});
          },
          // `delete --force` on a container that is already gone fails harmlessly.
          runtime_command(runtime, {"delete", "--force", id})};
}

Container::Container(const OciRuntime& runtime, const Bundle& bundle, std::string id, const support::SpawnOptions& io)
    : ForegroundContainer(id, container_commands(runtime, bundle, id), in_bundle(io, bundle)) {}

}  // namespace cog::builder::container
