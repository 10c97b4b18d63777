#pragma once
// Starting other programs (runc, skopeo, cog-server, the worker; apt inside a sandbox is
// builder/exec's job). Explicit argv, no shell, so no quoting bugs. The child half is
// support/child_exec.hpp, which builder/exec's namespaced children share.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cog::support {

struct SpawnOptions {
  std::vector<std::string> env;           // empty = inherit the caller's environment
  std::filesystem::path cwd;              // empty = inherit
  bool capture_stdout = false;            // else inherited
  bool capture_stderr = false;            // else inherited
  std::optional<std::string> stdin_data;  // fed to the child by wait(), then closed; else inherited
  bool new_process_group = false;         // so a Ctrl-C aimed at us does not hit the child twice
  bool die_with_parent = false;           // SIGKILL when the thread that spawned it ends
  // {source, target}: dup2'd in the child in order, after the captured streams (the copy does not
  // close on exec). E.g. {2, 1} sends stdout to our stderr; {socket, 3} hands over a socket.
  std::vector<std::pair<int, int>> fd_map;
};

struct ProcessResult {
  int exit_code = -1;   // exit status, or 128 + signal number
  int wait_status = 0;  // as waitpid gave it, for saying how the program ended
  std::string stdout_text;
  std::string stderr_text;
};

class Process {
 public:
  // Throws cog::Error when the program cannot start (not found, not executable, no `cwd`).
  static Process spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();  // kills and reaps a child still running: no zombie, no orphan

  pid_t pid() const { return pid_; }
  // Waits for exit, feeding stdin_data and draining captured output.
  ProcessResult wait();
  // Whether the child has exited, without blocking (captured output is drained by wait()).
  bool exited();
  void signal(int signal_number) const;

 private:
  Process() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int stdin_fd_ = -1;  // with SpawnOptions::stdin_data: what wait() feeds
  std::string stdin_data_;
  bool reaped_ = false;
  int exit_status_ = 0;  // waitpid status once reaped
};

// Runs to completion with output captured. Throws cog::Error when the program cannot start.
ProcessResult run_captured(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// The absolute path of `program` on PATH, if any.
std::optional<std::filesystem::path> find_program(const std::string& program);

}  // namespace cog::support
