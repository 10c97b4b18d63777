// The watchdog and the records that end a container whose cog died, with shell commands standing
// in for runc so that no container is needed.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "builder/container/container_guard.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using namespace cog::builder::container;

namespace {

// A cleanup whose "kill" and "remove" append to `log`, and which owns the directory `leftover`.
ContainerCleanup logging_cleanup(const std::string& id, const fs::path& log, const fs::path& leftover) {
  fs::create_directories(leftover / "inside");
  return {id,
          {"sh", "-c", "echo kill >> '" + log.string() + "'"},
          {"sh", "-c", "echo remove >> '" + log.string() + "'"},
          {},
          {leftover}};
}

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

bool wait_for(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace

TEST_CASE("a guarded container is cleaned up by the watchdog when its owner dies without cleaning up") {
  TempDir temp;
  const fs::path log = temp.path / "log";
  const fs::path leftover = temp.path / "bundle-x";
  const pid_t owner = fork();
  REQUIRE(owner >= 0);
  if (owner == 0) {
    // Dies the way a SIGKILL makes it: no destructor runs.
    new ContainerGuard(logging_cleanup("cog-000000000001", log, leftover), temp.path / "state");
    _exit(0);
  }
  int status = 0;
  waitpid(owner, &status, 0);
  CHECK(wait_for([&] { return !fs::exists(temp.path / "state" / "cog-000000000001.json"); }));
  CHECK(read_file(log) == "kill\nremove\n");
  CHECK_FALSE(fs::exists(leftover));
}

TEST_CASE("a guard destroyed by its owner runs nothing and leaves no record or watchdog") {
  TempDir temp;
  const fs::path log = temp.path / "log";
  const fs::path leftover = temp.path / "bundle-x";
  pid_t watchdog = -1;
  {
    ContainerGuard guard(logging_cleanup("cog-000000000002", log, leftover), temp.path / "state");
    watchdog = guard.watchdog_pid();
    CHECK(fs::exists(temp.path / "state" / "cog-000000000002.json"));
  }
  CHECK_FALSE(fs::exists(temp.path / "state" / "cog-000000000002.json"));
  CHECK(wait_for([&] { return kill(watchdog, 0) != 0; }));  // exited, and reaped by init
  CHECK_FALSE(fs::exists(log));
  CHECK(fs::exists(leftover));  // its owner's to remove
}

TEST_CASE("reap_orphaned_containers ends what a dead owner recorded and leaves a live owner's alone") {
  TempDir temp;
  const fs::path log = temp.path / "log";
  const fs::path state = temp.path / "state";
  const pid_t owner = fork();
  REQUIRE(owner >= 0);
  if (owner == 0) {
    // Owner and watchdog both die: only the record is left.
    auto* guard = new ContainerGuard(logging_cleanup("cog-000000000003", log, temp.path / "bundle-dead"), state);
    kill(guard->watchdog_pid(), SIGKILL);
    _exit(0);
  }
  int status = 0;
  waitpid(owner, &status, 0);
  ContainerGuard live(logging_cleanup("cog-000000000004", temp.path / "live-log", temp.path / "bundle-live"), state);
  REQUIRE(fs::exists(state / "cog-000000000003.json"));

  CHECK(reap_orphaned_containers(state) == std::vector<std::string>{"cog-000000000003"});
  CHECK(read_file(log) == "kill\nremove\n");
  CHECK_FALSE(fs::exists(temp.path / "bundle-dead"));
  CHECK_FALSE(fs::exists(state / "cog-000000000003.json"));
  CHECK(fs::exists(state / "cog-000000000004.json"));
  CHECK(fs::exists(temp.path / "bundle-live"));
  CHECK(reap_orphaned_containers(state).empty());
}

TEST_CASE("a process is identified by pid, start time and boot") {
  const ProcessIdentity self = current_process();
  CHECK(is_alive(self));
  ProcessIdentity reused = self;
  reused.start_ticks += 1;  // the same pid, started at another time: another process
  CHECK_FALSE(is_alive(reused));
  ProcessIdentity other_boot = self;
  other_boot.boot_id = "not-this-boot";
  CHECK_FALSE(is_alive(other_boot));
}

TEST_CASE("reap_orphaned_containers drops unreadable and half-written records once they are old") {
  TempDir temp;
  const fs::path state = temp.path / "state";
  fs::create_directories(state);
  for (const char* name : {"cog-00000000000a.json", ".cog-00000000000b.partial"}) {
    std::ofstream(state / name) << "{\"owner\": ";
  }
  std::ofstream(state / "cog-00000000000c.json") << "not json";
  fs::last_write_time(state / "cog-00000000000a.json", fs::file_time_type::clock::now() - std::chrono::minutes(5));
  fs::last_write_time(state / ".cog-00000000000b.partial", fs::file_time_type::clock::now() - std::chrono::minutes(5));

  CHECK(reap_orphaned_containers(state).empty());
  CHECK_FALSE(fs::exists(state / "cog-00000000000a.json"));
  CHECK_FALSE(fs::exists(state / ".cog-00000000000b.partial"));
  CHECK(fs::exists(state / "cog-00000000000c.json"));  // recent: left alone for a minute
}
