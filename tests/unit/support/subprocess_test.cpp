#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "support/child_exec.hpp"
#include "support/error.hpp"
#include "support/subprocess.hpp"

using namespace cog::support;

TEST_CASE("subprocess: output is captured, stdin fed, the exit code returned") {
  SpawnOptions options;
  options.stdin_data = "in\n";
  const auto echoed = run_captured({"sh", "-c", "cat; echo err >&2; exit 3"}, options);
  CHECK(echoed.stdout_text == "in\n");
  CHECK(echoed.stderr_text == "err\n");
  CHECK(echoed.exit_code == 3);
}

TEST_CASE("subprocess: env and cwd are the child's, a signal ends it with 128 + its number") {
  SpawnOptions options;
  options.env = {"ONLY=this"};
  options.cwd = "/tmp";
  const auto result = run_captured({"sh", "-c", "echo \"$ONLY\"; pwd; kill -TERM $$"}, options);
  CHECK(result.stdout_text == "this\n/tmp\n");
  CHECK(result.exit_code == 128 + SIGTERM);
  CHECK(WIFSIGNALED(result.wait_status));
}

TEST_CASE("subprocess: a program that cannot start is an error from spawn, not an exit code") {
  CHECK_THROWS_AS(Process::spawn({"/nonexistent/program"}), cog::Error);
  CHECK_THROWS_AS(Process::spawn({"no-such-program-on-path-at-all"}), cog::Error);
  SpawnOptions elsewhere;
  elsewhere.cwd = "/nonexistent/directory";
  CHECK_THROWS_AS(Process::spawn({"true"}, elsewhere), cog::Error);
  CHECK_THROWS_AS(Process::spawn({}), cog::Error);
}

TEST_CASE("subprocess: fd_map hands descriptors over: stdout onto stderr, a socket at 3") {
  SpawnOptions merged;
  merged.capture_stderr = true;
  merged.fd_map = {{STDERR_FILENO, STDOUT_FILENO}};
  const auto result = Process::spawn({"sh", "-c", "echo out"}, merged).wait();
  CHECK(result.stderr_text == "out\n");

  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  SpawnOptions handed;
  handed.fd_map = {{fds[1], 3}};
  auto child = Process::spawn({"sh", "-c", "echo hello >&3"}, handed);
  ::close(fds[1]);
  std::string received;
  char buffer[64];
  for (ssize_t got; (got = ::read(fds[0], buffer, sizeof buffer)) > 0;)
    received.append(buffer, static_cast<std::size_t>(got));
  ::close(fds[0]);
  CHECK(received == "hello\n");
  CHECK(child.wait().exit_code == 0);
}

TEST_CASE("subprocess: a child in its own process group, ended by its destructor if still running") {
  pid_t pid = -1;
  {
    SpawnOptions grouped;
    grouped.new_process_group = true;
    auto child = Process::spawn({"sleep", "30"}, grouped);
    pid = child.pid();
    CHECK(::getpgid(pid) == pid);
    CHECK_FALSE(child.exited());
  }
  CHECK(::kill(pid, 0) != 0);  // killed and reaped: no zombie left
}

TEST_CASE("child exec: bare names are looked up in the search path, paths are used as given") {
  const auto image = prepare_exec({"python3", "-c", "1"}, {"A=b"}, "/opt/bin::/usr/bin");
  CHECK(image.candidates == std::vector<std::string>{"/opt/bin/python3", "./python3", "/usr/bin/python3"});
  CHECK(image.argv_ptrs.size() == 4);
  CHECK(image.argv_ptrs.back() == nullptr);
  CHECK(image.env_ptrs.size() == 2);
  CHECK(prepare_exec({"/bin/sh"}, {}, "/usr/bin").candidates == std::vector<std::string>{"/bin/sh"});
  CHECK_THROWS_AS(prepare_exec({}, {}, "/usr/bin"), cog::Error);
  CHECK(decode_wait_status(0x0300) == 3);
}
