#pragma once
// The OCI runtime bundle that runc/crun start: config.json from what `cog run/serve/exec` need.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "builder/container/cdi.hpp"

namespace cog::builder::container {

struct BindMount {
  std::filesystem::path source;  // on the host
  std::string destination;       // inside the container
  bool read_only = false;
};

struct ContainerSpec {
  std::filesystem::path rootfs;   // an unpacked image root (overlay-mounted by the caller)
  std::vector<std::string> args;  // argv of the process
  std::vector<std::string> env;   // NAME=value, image env first, then the user's
  std::string cwd = "/";
  std::vector<BindMount> binds;  // the project at /src, outputs, caches
  bool terminal = false;         // allocate a TTY (cog exec on a terminal)
  // Sharing the host's network namespace makes "publishing" a port trivial: the server inside
  // listens on the host port directly (PORT is set accordingly). No bridge, no iptables.
  bool host_network = true;
  std::string hostname = "cog";
  // What the container sees at /etc/hosts, /etc/resolv.conf and /etc/hostname (read-only binds of
  // files the Bundle writes with network_files below); an empty path binds nothing there.
  std::filesystem::path hosts_file;
  std::filesystem::path resolv_conf_file;
  std::filesystem::path hostname_file;
  std::vector<std::string> extra_devices;  // host device nodes to expose (GPUs), e.g. /dev/nvidia0
  // CDI edits (or the NVIDIA hook): their device nodes, mounts and hooks. Their env is not read
  // here: the caller merges it into `env` (image env < device env < the user's -e).
  CdiEdits edits;
};

// `base` with each NAME=value of `overrides` replacing an entry of the same name (or appended):
// a process sees one value per name.
std::vector<std::string> merge_env(std::vector<std::string> base, const std::vector<std::string>& overrides);

// The name by which a container reaches the host, as Docker's `--add-host
// host.docker.internal:host-gateway` (what `cog serve` and `cog run` add) provides it.
inline constexpr const char* kHostAlias = "host.docker.internal";

// /etc/hosts for a container: `host_hosts` (the host's own, as Docker copies it for host
// networking), then the loopback names, `hostname`, and kHostAlias. Sharing the host's network,
// the host *is* the loopback; an IPv4 address only, as Docker's host-gateway, because a receiver
// listening on 0.0.0.0 is not reachable at ::1.
std::string container_hosts(const std::string& host_hosts, const std::string& hostname);

// Writes hosts, resolv.conf (the host's, copied, with host networking) and hostname into `dir`
// and points `spec` at them.
void write_network_files(ContainerSpec& spec, const std::filesystem::path& dir);

// The config.json document (OCI runtime-spec 1.0) for `spec`.
nlohmann::json runtime_spec(const ContainerSpec& spec);

}  // namespace cog::builder::container
