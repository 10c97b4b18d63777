#include "builder/container/container_records.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/error.hpp"
#include "support/subprocess.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cog::builder::container {
namespace {

std::string boot_id() {
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(file, id);
  return id;
}

// Fields 3 (state) and 22 (start time, in clock ticks since boot) of /proc/PID/stat; false when
// there is no such process. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last ')'.
bool read_stat(pid_t pid, char& state, unsigned long long& start_ticks) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) return false;
  std::istringstream fields(text.substr(name_end + 1));
  std::string field;
  for (int number = 3; fields >> field; ++number) {
    if (number == 3) state = field.empty() ? '?' : field[0];
    if (number == 22) {
      start_ticks = std::strtoull(field.c_str(), nullptr, 10);
      return true;
    }
  }
  return false;
}

json identity_json(const ProcessIdentity& process) {
  return {{"pid", process.pid}, {"start", process.start_ticks}, {"boot", process.boot_id}};
}

void run_quietly(const std::vector<std::string>& argv) {
  if (argv.empty()) return;
  try {
    support::run_captured(argv);
  } catch (const Error&) {
    // A runtime that cannot start now cannot have a container to end either.
  }
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

std::vector<std::string> string_list(const json& value) {
  std::vector<std::string> strings;
  if (!value.is_array()) return strings;
  for (const auto& item : value) {
    if (item.is_string()) strings.push_back(item.get<std::string>());
  }
  return strings;
}

std::vector<std::string> path_strings(const std::vector<fs::path>& paths) {
  std::vector<std::string> strings;
  for (const auto& path : paths) strings.push_back(path.string());
  return strings;
}

}  // namespace

ProcessIdentity current_process() {
  ProcessIdentity self;
  self.pid = getpid();
  char state = 0;
  read_stat(self.pid, state, self.start_ticks);
  self.boot_id = boot_id();
  return self;
}

bool is_alive(const ProcessIdentity& process) {
  if (process.pid <= 0 || process.boot_id != boot_id()) return false;
  char state = 0;
  unsigned long long start_ticks = 0;
  if (!read_stat(process.pid, state, start_ticks)) return false;
  // A zombie has closed its descriptors and will never clean up.
  return state != 'Z' && state != 'X' && start_ticks == process.start_ticks;
}

fs::path default_container_state_dir() {
  if (geteuid() == 0) return "/run/cog/containers";
  if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir) return fs::path(dir) / "cog" / "containers";
  return fs::temp_directory_path() / ("cog-" + std::to_string(geteuid())) / "containers";
}

fs::path record_path(const fs::path& state_dir, const std::string& id) { return state_dir / (id + ".json"); }

void write_record(const fs::path& state_dir, const ContainerCleanup& cleanup, const ProcessIdentity& owner) {
  std::error_code error;
  fs::create_directories(state_dir, error);
  // Records hold commands the reaper runs: only their owner may write there.
  if (!error) fs::permissions(state_dir, fs::perms::owner_all, fs::perm_options::replace, error);
  if (error) {
    throw Error(ErrorKind::Io, state_dir.string(), "cannot make the container records directory: " + error.message(),
                "make it writable for this user, or remove it");
  }
  const json record = {{"id", cleanup.id},
                       {"owner", identity_json(owner)},
                       {"kill", cleanup.kill},
                       {"remove", cleanup.remove},
                       {"unmounts", path_strings(cleanup.unmounts)},
                       {"paths", path_strings(cleanup.paths)}};
  // Written whole under a name the reaper skips, then renamed: a reader never sees half a record.
  const fs::path partial = state_dir / ("." + cleanup.id + ".partial");
  {
    std::ofstream file(partial);
    file << record.dump(2) << "\n";
    if (!file.flush()) {
      throw Error(ErrorKind::Io, partial.string(), "could not write the container's record",
                  "check that " + state_dir.string() + " is writable");
    }
  }
  fs::rename(partial, record_path(state_dir, cleanup.id), error);
  if (error) {
    throw Error(ErrorKind::Io, partial.string(), "cannot put the container's record in place: " + error.message(), "");
  }
}

std::vector<std::string> reap_orphaned_containers(const fs::path& state_dir) {
  std::vector<std::string> reaped;
  const auto now = fs::file_time_type::clock::now();
  std::error_code error;
  for (fs::directory_iterator entry(state_dir, error); !error && entry != fs::directory_iterator();
       entry.increment(error)) {
    const fs::path path = entry->path();
    // Half-written records (their writer died before the rename) and unreadable ones go once
    // nobody can still be writing them.
    const auto drop_if_stale = [&] {
      std::error_code ignored;
      const auto written = fs::last_write_time(path, ignored);
      if (!ignored && now - written > std::chrono::minutes(1)) fs::remove(path, ignored);
    };
    if (path.extension() == ".partial") drop_if_stale();
    if (path.extension() != ".json" || path.filename().string().starts_with(".")) continue;
    std::ifstream file(path);
    const json record = json::parse(file, nullptr, false);
    if (!record.is_object() || !record.contains("owner") || !record["owner"].is_object()) {
      drop_if_stale();
      continue;
    }
    ProcessIdentity process;
    try {
      const json& owner = record["owner"];
      process.pid = owner.value("pid", 0);
      process.start_ticks = owner.value("start", 0ULL);
      process.boot_id = owner.value("boot", "");
    } catch (const json::exception&) {
      drop_if_stale();
      continue;
    }
    if (is_alive(process)) continue;
    // Ended first, so nothing uses its files when they go.
    run_quietly(string_list(record.value("kill", json::array())));
    run_quietly(string_list(record.value("remove", json::array())));
    for (const auto& mount : string_list(record.value("unmounts", json::array()))) {
      umount2(mount.c_str(), MNT_DETACH);
    }
    for (const auto& leftover : string_list(record.value("paths", json::array()))) remove_quietly(leftover);
    std::error_code ignored;
    fs::remove(path, ignored);
    reaped.push_back(path.stem().string());
  }
  return reaped;
}

std::vector<std::string> reap_stopped_containers(const OciRuntime& runtime, const fs::path& state_dir) {
  std::vector<std::string> reaped;
  support::ProcessResult listed;
  try {
    listed = support::run_captured(runtime_command(runtime, {"list", "--format", "json"}));
  } catch (const Error&) {
    return reaped;
  }
  if (listed.exit_code != 0) return reaped;
  const json containers = json::parse(listed.stdout_text, nullptr, false);
  if (!containers.is_array()) return reaped;  // runc prints null when there are none
  static const std::regex ours("cog-[0-9a-f]{12}");
  for (const auto& container : containers) {
    if (!container.is_object()) continue;
    const std::string id = container.value("id", "");
    if (!std::regex_match(id, ours) || container.value("status", "") != "stopped") continue;
    if (fs::exists(record_path(state_dir, id))) continue;  // its owner, or reap_orphaned_containers, has it
    run_quietly(runtime_command(runtime, {"delete", "--force", id}));
    // Only directories of the shapes we make: a bundle-XXXXXX, and the container-XXXXXX overlay
    // scratch whose merged/ is the root.
    const fs::path bundle = container.value("bundle", "");
    if (bundle.filename().string().starts_with("bundle-")) remove_quietly(bundle);
    const fs::path rootfs = container.value("rootfs", "");
    if (rootfs.filename() == "merged" && rootfs.parent_path().filename().string().starts_with("container-")) {
      umount2(rootfs.c_str(), MNT_DETACH);
      remove_quietly(rootfs.parent_path());
    }
    reaped.push_back(id);
  }
  return reaped;
}

}  // namespace cog::builder::container
