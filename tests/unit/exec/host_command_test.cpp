#include <doctest/doctest.h>

#include "builder/exec/host_command.hpp"
#include "helpers.hpp"

using namespace exec_test;

TEST_CASE("host command: its mounts stay private and its processes die with it") {
  EXEC_TEST_NEEDS_ROOT();
  TempDir dir;
  const std::string before = mountinfo();
  Lines lines;
  HostCommand command;
  command.argv = {"/bin/sh", "-c",
                  "mount -t tmpfs scratch '" + dir.path().string() + "' && touch '" + dir.path().string() +
                      "/in-tmpfs' && echo $$ && "
                      "(sleep 62.5 &) && exit 4"};
  command.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  auto status = run_host_command(command, lines.sink());
  CHECK(status.exit_code == 4);
  CHECK(lines.out == std::vector<std::string>{"2"});
  CHECK(mountinfo() == before);
  CHECK_FALSE(fs::exists(dir.path() / "in-tmpfs"));  // it was written into the private tmpfs
  bool orphan_alive = false;
  for (const auto& process : fs::directory_iterator("/proc"))
    if (read_file(process.path() / "cmdline").find("62.5") != std::string::npos) orphan_alive = true;
  CHECK_FALSE(orphan_alive);
}
