#include "builder/container/runtime_spec.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <fstream>

#include "support/error.hpp"
#include "support/text_file.hpp"

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
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}),
  });
}

// The files a container resolves names with, bound read-only.
void add_network_files(const ContainerSpec& spec, json& mounts) {
  for (const auto& [file, destination] :
       {std::pair{spec.hosts_file, "/etc/hosts"}, std::pair{spec.resolv_conf_file, "/etc/resolv.conf"},
        std::pair{spec.hostname_file, "/etc/hostname"}}) {
    if (!file.empty()) mounts.push_back(mount(destination, "bind", file.string(), {"rbind", "ro"}));
  }
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error(ErrorKind::Io, path.string(), "could not write the container's network file", "");
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

json cdi_device_entry(const CdiDeviceNode& node) {
  const std::string host_path = node.host_path.empty() ? node.path : node.host_path;
  json entry = {{"path", node.path}};
  struct stat info {};
  const bool exists = stat(host_path.c_str(), &info) == 0;
  std::string type = node.type;
  if (type.empty()) type = exists && S_ISBLK(info.st_mode) ? "b" : "c";
  entry["type"] = type;
  if (node.major && node.minor) {
    entry["major"] = *node.major;
    entry["minor"] = *node.minor;
  } else if (exists && (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode))) {
    entry["major"] = major(info.st_rdev);
    entry["minor"] = minor(info.st_rdev);
  } else {
    return nullptr;  // CDI's rule: a node whose host path is missing and numbers unknown is skipped
  }
  entry["fileMode"] = node.file_mode.value_or(exists ? (info.st_mode & 07777) : 0666);
  entry["uid"] = node.uid.value_or(0);
  entry["gid"] = node.gid.value_or(0);
  return entry;
}

json hook_entry(const CdiHook& hook) {
  json entry = {{"path", hook.path}};
  if (!hook.args.empty()) entry["args"] = hook.args;
  if (!hook.env.empty()) entry["env"] = hook.env;
  if (hook.timeout) entry["timeout"] = *hook.timeout;
  return entry;
}

// As many open files as this host lets us have: raising past our own hard limit is refused.
json open_files_limit() {
  struct rlimit limit {};
  getrlimit(RLIMIT_NOFILE, &limit);
  return {{"type", "RLIMIT_NOFILE"}, {"hard", limit.rlim_max}, {"soft", limit.rlim_max}};
}

}  // namespace

std::vector<std::string> merge_env(std::vector<std::string> base, const std::vector<std::string>& overrides) {
  for (const auto& entry : overrides) {
    const std::string name = entry.substr(0, entry.find('='));
    auto same = std::find_if(base.begin(), base.end(),
                             [&](const std::string& old) { return old.substr(0, old.find('=')) == name; });
    if (same != base.end()) {
      *same = entry;
    } else {
      base.push_back(entry);
    }
  }
  return base;
}

std::string container_hosts(const std::string& host_hosts, const std::string& hostname) {
  std::string text = host_hosts;
  if (!text.empty() && text.back() != '\n') text += '\n';
  // Docker's own lines for a container, then its --add-host ones.
  text +=
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  if (!hostname.empty()) text += "127.0.0.1\t" + hostname + "\n";
  text += std::string("127.0.0.1\t") + kHostAlias + "\n";
  return text;
}

void write_network_files(ContainerSpec& spec, const std::filesystem::path& dir) {
  // The host's files as they are now, copied as Docker copies them: the container keeps one view
  // however the host's files change (or are replaced by a resolver) while it runs.
  const std::string host_hosts = std::filesystem::exists("/etc/hosts") ? support::read_text_file("/etc/hosts") : "";
  spec.hosts_file = dir / "hosts";
  write_file(spec.hosts_file, container_hosts(spec.host_network ? host_hosts : "", spec.hostname));
  spec.hostname_file = dir / "hostname";
  write_file(spec.hostname_file, spec.hostname + "\n");
  // Without the host's network there is no DNS to name; with it, the host's resolver is reachable
  // as it is from the host (a 127.0.0.53 stub included).
  if (spec.host_network && std::filesystem::exists("/etc/resolv.conf")) {
    spec.resolv_conf_file = dir / "resolv.conf";
    write_file(spec.resolv_conf_file, support::read_text_file("/etc/resolv.conf"));
  }
}

nlohmann::json runtime_spec(const ContainerSpec& spec) {
  json namespaces = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  if (!spec.host_network) namespaces.push_back({{"type", "network"}});

  json mounts = standard_mounts();
  add_network_files(spec, mounts);
  for (const auto& bind : spec.binds) {
    std::vector<std::string> options = {"rbind", bind.read_only ? "ro" : "rw"};
    mounts.push_back(mount(bind.destination, "bind", bind.source.string(), options));
  }
  for (const auto& cdi_mount : spec.edits.mounts) {
    const std::string type = cdi_mount.type.empty() ? "bind" : cdi_mount.type;
    std::vector<std::string> options = cdi_mount.options;
    if (type == "bind" && std::find(options.begin(), options.end(), "bind") == options.end() &&
        std::find(options.begin(), options.end(), "rbind") == options.end()) {
      options.insert(options.begin(), "rbind");
    }
    mounts.push_back(mount(cdi_mount.container_path, type, cdi_mount.host_path, options));
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
  for (const auto& node : spec.edits.device_nodes) {
    json device = cdi_device_entry(node);
    if (device.is_null()) continue;
    // One node per container path: the last definition wins (a device listed by two CDI devices).
    for (auto it = devices.begin(); it != devices.end(); ++it) {
      if ((*it)["path"] == device["path"]) {
        devices.erase(it);
        break;
      }
    }
    devices.push_back(device);
    json rule = {{"allow", true},
                 {"type", device["type"]},
                 {"major", device["major"]},
                 {"minor", device["minor"]},
                 {"access", node.permissions.empty() ? "rwm" : node.permissions}};
    device_rules.push_back(rule);
  }
  json hooks = json::object();
  for (const auto& hook : spec.edits.hooks) hooks[hook.hook_name].push_back(hook_entry(hook));

  // The usual character devices a process expects (runc creates them; the cgroup must allow them).
  for (auto [major_number, minor_number] :
       std::vector<std::pair<int, int>>{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1}}) {
    json rule = {{"allow", true}, {"type", "c"}, {"major", major_number}, {"access", "rwm"}};
    if (minor_number >= 0) rule["minor"] = minor_number;
    device_rules.push_back(rule);
  }

  const std::vector<std::string> capabilities = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  const json capability_sets = {
      {"bounding", capabilities}, {"effective", capabilities}, {"permitted", capabilities}, {"ambient", capabilities}};

  json document = {
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
         {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
          "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}},
        {"readonlyPaths", {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  if (!hooks.empty()) document["hooks"] = hooks;
  return document;
}

}  // namespace cog::builder::container
