#include "builder/container/runtime_spec.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace cog::builder::container {
namespace {

using nlohmann::json;

json mount(const std::string& destination, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

json standard_mounts() {
  return json::array({
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}),
  });
}

// Host files a networked container needs to resolve names, bound read-only.
void add_network_files(json& mounts) {
  for (const char* file : {"/etc/resolv.conf", "/etc/hosts"}) {
    if (std::filesystem::exists(file)) {
      mounts.push_back(mount(file, "bind", file, {"rbind", "ro"}));
    }
  }
}

json device_entry(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return nullptr;
  const bool is_char = S_ISCHR(info.st_mode);
  return {{"path", path},
          {"type", is_char ? "c" : "b"},
          {"major", major(info.st_rdev)},
          {"minor", minor(info.st_rdev)},
          {"fileMode", info.st_mode & 07777},
          {"uid", 0},
          {"gid", 0}};
}

// As many open files as this host lets us have: raising past our own hard limit is refused.
json open_files_limit() {
  struct rlimit limit {};
  getrlimit(RLIMIT_NOFILE, &limit);
  return {{"type", "RLIMIT_NOFILE"}, {"hard", limit.rlim_max}, {"soft", limit.rlim_max}};
}

}  // namespace

nlohmann::json runtime_spec(const ContainerSpec& spec) {
  json namespaces = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                                 {{"type", "mount"}}});
  if (!spec.host_network) namespaces.push_back({{"type", "network"}});

  json mounts = standard_mounts();
  if (spec.host_network) add_network_files(mounts);
  for (const auto& bind : spec.binds) {
    std::vector<std::string> options = {"rbind", bind.read_only ? "ro" : "rw"};
    mounts.push_back(mount(bind.destination, "bind", bind.source.string(), options));
  }

  json devices = json::array();
  json device_rules = json::array({{{"allow", false}, {"access", "rwm"}}});
  for (const auto& path : spec.extra_devices) {
    json device = device_entry(path);
    if (device.is_null()) continue;
    devices.push_back(device);
    device_rules.push_back({{"allow", true},
                            {"type", device["type"]},
                            {"major", device["major"]},
                            {"minor", device["minor"]},
                            {"access", "rwm"}});
  }
  // The usual character devices a process expects (runc creates them; the cgroup must allow them).
  for (auto [major_number, minor_number] : std::vector<std::pair<int, int>>{
           {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1}}) {
    json rule = {{"allow", true}, {"type", "c"}, {"major", major_number}, {"access", "rwm"}};
    if (minor_number >= 0) rule["minor"] = minor_number;
    device_rules.push_back(rule);
  }

  const std::vector<std::string> capabilities = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
      "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
      "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
  const json capability_sets = {{"bounding", capabilities},
                                {"effective", capabilities},
                                {"permitted", capabilities},
                                {"ambient", capabilities}};

  return {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", spec.terminal},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", spec.args},
        {"env", spec.env},
        {"cwd", spec.cwd.empty() ? "/" : spec.cwd},
        {"capabilities", capability_sets},
        {"rlimits", json::array({open_files_limit()})},
        {"noNewPrivileges", true}}},
      {"root", {{"path", spec.rootfs.string()}, {"readonly", false}}},
      {"hostname", spec.hostname},
      {"mounts", mounts},
      {"linux",
       {{"namespaces", namespaces},
        {"devices", devices},
        {"resources", {{"devices", device_rules}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}},
        {"readonlyPaths",
         {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
}

}  // namespace cog::builder::container
