#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <thread>

#include "builder/exec/sandbox.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace exec_test;

namespace {

bool has_xattr(const fs::path& path, const char* name) { return lgetxattr(path.c_str(), name, nullptr, 0) >= 0; }

struct Fixture {
  TempDir dir;
  HostRoot root{dir.path()};
  Lines lines;
  std::string mounts_before = mountinfo();

  Rootfs rootfs(const char* upper = "upper") const { return {{root.lower}, dir.path() / upper}; }
  ExitStatus run(const StepSpec& step, const char* upper = "upper") {
    return run_step(rootfs(upper), step, lines.sink());
  }
  fs::path upper(const char* name = "upper") const { return dir.path() / name; }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "sandbox: output is streamed line by line and the exit code returned") {
  EXEC_TEST_NEEDS_ROOT();
  auto status = run(root.shell("echo one; echo two >&2; printf 'no newline'; exit 3"));
  CHECK(status.exit_code == 3);
  CHECK_FALSE(status.ok());
  CHECK(lines.out == std::vector<std::string>{"one", "no newline"});
  CHECK(lines.err == std::vector<std::string>{"two"});
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: a command killed by a signal reports 128 + signal") {
  EXEC_TEST_NEEDS_ROOT();
  auto status = run(root.shell("kill -TERM $$"));
  CHECK(status.exit_code == 128 + 15);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: the step is pid 2 under its own init, host name and root") {
  EXEC_TEST_NEEDS_ROOT();
  auto status = run(root.shell("echo $$; hostname; ls /; touch /sys/x 2>/dev/null || echo ro-sys"));
  REQUIRE(status.ok());
  REQUIRE(lines.out.size() >= 2);
  CHECK(lines.out[0] == "2");
  CHECK(lines.out[1] == "cog-build");
  auto listing = lines.all_out();
  CHECK(listing.find("\nwork\n") == std::string::npos);  // the host's root is gone
  CHECK(listing.find("\netc\n") != std::string::npos);
  CHECK(listing.find("\nsys\n") != std::string::npos);
  CHECK(lines.out.back() == "ro-sys");
}

TEST_CASE_FIXTURE(Fixture, "sandbox: only the step's changes land in the upper directory") {
  EXEC_TEST_NEEDS_ROOT();
  auto status =
      run(root.shell("echo new > /etc/new.txt && rm /etc/gone.txt /etc/gone-too.txt && echo more >> /etc/keep.txt && "
                     "rm -rf /etc/app/data && mkdir /etc/app/data && echo fresh > /etc/app/data/fresh.txt && "
                     "echo scratch > /tmp/scratch && echo x > /dev/null && ls /proc/self >/dev/null"));
  REQUIRE(status.ok());
  CHECK(entries(upper()) == std::vector<std::string>{"etc", "etc/app", "etc/app/data", "etc/app/data/fresh.txt",
                                                     "etc/gone-too.txt", "etc/gone.txt", "etc/keep.txt",
                                                     "etc/new.txt"});
  CHECK(is_whiteout(upper() / "etc/gone.txt"));
  struct stat info;
  REQUIRE(lstat((upper() / "etc/gone.txt").c_str(), &info) == 0);
  CHECK(info.st_nlink == 1);  // overlayfs links all whiteouts to one inode; split for the capture
  CHECK(is_whiteout(upper() / "etc/gone-too.txt"));
  CHECK(has_xattr(upper() / "etc/app/data", "trusted.overlay.opaque"));
  CHECK_FALSE(has_xattr(upper() / "etc", "trusted.overlay.origin"));
  CHECK_FALSE(has_xattr(upper() / "etc", "trusted.overlay.impure"));
  CHECK(read_file(upper() / "etc/keep.txt") == "keep\nmore\n");
  CHECK(read_file(root.lower / "etc/keep.txt") == "keep\n");  // lowers are never written
  CHECK(fs::exists(root.lower / "etc/gone.txt"));
  CHECK_FALSE(fs::exists(dir.path() / "upper.sandbox"));
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: a copied-up directory keeps the image's metadata") {
  EXEC_TEST_NEEDS_ROOT();
  fs::permissions(root.lower / "etc", fs::perms(0750));
  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  utimensat(AT_FDCWD, (root.lower / "etc").c_str(), times, 0);
  StepSpec step = root.shell("touch /etc/added");
  step.secrets.push_back({root.lower / "etc/keep.txt", "/etc/secret.txt"});
  REQUIRE(run(step).ok());
  struct stat info;
  REQUIRE(lstat((upper() / "etc").c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0750);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: secrets are readable during the step, read-only, never captured") {
  EXEC_TEST_NEEDS_ROOT();
  write_file(dir.path() / "secret", "hunter2\n");
  StepSpec step = root.shell("cat /run/secrets/token; cat relative.txt; echo x > /run/secrets/token || echo read-only");
  step.workdir = "/root";
  step.secrets.push_back({dir.path() / "secret", "/run/secrets/token"});
  step.secrets.push_back({dir.path() / "secret", "relative.txt"});
  REQUIRE(run(step).ok());
  CHECK(lines.out == std::vector<std::string>{"hunter2", "hunter2", "read-only"});
  CHECK(entries(upper()).empty());
  CHECK(read_file(dir.path() / "secret") == "hunter2\n");
}

TEST_CASE_FIXTURE(Fixture, "sandbox: cache binds persist on the host but not in the layer") {
  EXEC_TEST_NEEDS_ROOT();
  fs::create_directories(dir.path() / "pip-cache");
  write_file(dir.path() / "requirements.txt", "six\n");
  StepSpec step = root.shell(
      "echo cached > /root/.cache/pip/entry && cat /tmp/requirements.txt && "
      "echo kept > /etc/result");
  step.binds.push_back({dir.path() / "pip-cache", "/root/.cache/pip", false});
  step.binds.push_back({dir.path() / "requirements.txt", "/tmp/requirements.txt", true});
  REQUIRE(run(step).ok());
  CHECK(lines.out == std::vector<std::string>{"six"});
  CHECK(read_file(dir.path() / "pip-cache/entry") == "cached\n");
  CHECK(entries(upper()) == std::vector<std::string>{"etc", "etc/result"});
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: resolv.conf and hosts come from the host, read-only, uncaptured") {
  EXEC_TEST_NEEDS_ROOT();
  auto status = run(root.shell("cat /etc/resolv.conf; echo bad > /etc/hosts || echo refused"));
  REQUIRE(status.ok());
  CHECK(lines.all_out() == read_file("/etc/resolv.conf") + "refused\n");
  CHECK(entries(upper()).empty());
}

TEST_CASE_FIXTURE(Fixture, "sandbox: network None leaves only the loopback interface") {
  EXEC_TEST_NEEDS_ROOT();
  auto interfaces = [&](Network network, const char* upper) {
    StepSpec step = root.shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    step.network = network;
    lines.out.clear();
    REQUIRE(run(step, upper).ok());
    return lines.out;
  };
  CHECK(interfaces(Network::None, "u1") == std::vector<std::string>{"lo"});
  CHECK(interfaces(Network::Host, "u2").size() > 1);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: dangerous capabilities are dropped") {
  EXEC_TEST_NEEDS_ROOT();
  REQUIRE(run(root.shell("grep CapBnd /proc/self/status; mount -t tmpfs x /tmp 2>/dev/null || echo denied")).ok());
  CAPTURE(lines.all_out());
  REQUIRE(lines.out.size() == 2);
  CHECK(lines.out[0] == "CapBnd:\t00000000a80425fb");
  CHECK(lines.out[1] == "denied");
}

TEST_CASE_FIXTURE(Fixture, "sandbox: a timeout kills the step and everything it started") {
  EXEC_TEST_NEEDS_ROOT();
  StepSpec step = root.shell("(sleep 61.25 &) ; sleep 60");
  step.limits.timeout = std::chrono::milliseconds(300);
  auto status = run(step);
  CHECK(status.timed_out);
  CHECK(status.exit_code == 128 + 9);
  CHECK(status.elapsed < std::chrono::seconds(10));
  bool orphan_alive = false;  // the background sleep, started in a subshell that exited at once
  for (const auto& process : fs::directory_iterator("/proc"))
    if (read_file(process.path() / "cmdline").find("61.25") != std::string::npos) orphan_alive = true;
  CHECK_FALSE(orphan_alive);
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: a stop request cancels the step") {
  EXEC_TEST_NEEDS_ROOT();
  std::stop_source stop;
  StepSpec step = root.shell("echo started; sleep 60");
  step.limits.stop = stop.get_token();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  auto status = run(step);
  canceller.join();
  CHECK(status.cancelled);
  CHECK_FALSE(status.ok());
  CHECK(lines.out == std::vector<std::string>{"started"});
}

TEST_CASE_FIXTURE(Fixture, "sandbox: setup failures are errors that name the problem") {
  EXEC_TEST_NEEDS_ROOT();
  CHECK_THROWS_WITH_AS(run(root.step({"no-such-program"})), doctest::Contains("run no-such-program: No such file"),
                       cog::Error);
  StepSpec in_missing_dir = root.shell("true");
  in_missing_dir.workdir = "/nowhere";
  CHECK_THROWS_WITH_AS(run(in_missing_dir, "u2"), doctest::Contains("/nowhere"), cog::Error);
  StepSpec over_proc = root.shell("true");
  over_proc.binds.push_back({dir.path(), "/proc/x", false});
  CHECK_THROWS_AS(run(over_proc, "u3"), cog::Error);
  StepSpec no_target = root.shell("true");
  no_target.secrets.push_back({root.lower / "etc/keep.txt", ""});
  CHECK_THROWS_WITH_AS(run(no_target, "u5"), doctest::Contains("has no target"), cog::Error);
  write_file(upper("u4") / "leftover", "x");
  CHECK_THROWS_WITH_AS(run(root.shell("true"), "u4"), doctest::Contains("not empty"), cog::Error);
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Fixture, "sandbox: later layers win and their whiteouts hide earlier files") {
  EXEC_TEST_NEEDS_ROOT();
  fs::path second = dir.path() / "second";
  write_file(second / "etc/keep.txt", "newer\n");
  fs::create_directories(second / "etc");
  REQUIRE(mknod((second / "etc/gone.txt").c_str(), S_IFCHR, 0) == 0);
  Rootfs stacked{{root.lower, second}, dir.path() / "upper"};
  REQUIRE(run_step(stacked, root.shell("cat /etc/keep.txt; ls /etc/gone.txt 2>/dev/null || echo hidden"), lines.sink())
              .ok());
  CHECK(lines.out == std::vector<std::string>{"newer", "hidden"});
}

TEST_CASE_FIXTURE(Fixture, "sandbox: concurrent steps do not hold each other's output open") {
  EXEC_TEST_NEEDS_ROOT();
  Lines slow_lines;
  std::thread slow([&] { run_step(rootfs("slow"), root.shell("sleep 3; echo slow"), slow_lines.sink()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<ExitStatus> quick;
  for (int i = 0; i < 5; ++i) quick.push_back(run(root.shell("echo quick"), ("quick" + std::to_string(i)).c_str()));
  slow.join();
  for (const auto& status : quick) {
    CHECK(status.ok());
    CHECK(status.elapsed < std::chrono::milliseconds(2500));
  }
  CHECK(slow_lines.out == std::vector<std::string>{"slow"});
}
