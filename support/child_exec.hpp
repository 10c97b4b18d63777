#pragma once
// The child half of starting a program, shared by support::Process (plain children) and
// builder/exec (children clone()d into namespaces): the command is prepared before the fork, and
// after it the child makes system calls only, because the fork copied whatever locks (malloc's
// among them) other threads held at that moment.
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace cog::support {

// A command ready for execve: argv[0] resolved into the paths to try, the pointers built.
struct ExecImage {
  std::vector<std::string> candidates;  // paths execve tries in order (a bare argv[0] looked up in PATH)
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value
  std::vector<char*> argv_ptrs;  // null-terminated views of argv / env
  std::vector<char*> env_ptrs;
};

// `search_path` (colon-separated; an empty entry is the working directory) resolves a bare
// argv[0]; a name with a '/' is used as given. Throws cog::Error(Usage) on an empty argv[0].
ExecImage prepare_exec(std::vector<std::string> argv, std::vector<std::string> env, std::string_view search_path);

// fork() without glibc's atfork handlers; `clone_flags` may add CLONE_NEW* namespaces.
pid_t raw_fork(int clone_flags = 0);

// Child side: an empty signal mask and every signal's default disposition, whatever the parent
// blocked or ignored.
void reset_signals_in_child();

// Child side: execve each candidate in turn. Returns (only when none ran) the errno worth
// reporting: the last one other than "no such file" (ENOENT when every candidate was missing).
int exec_in_child(const ExecImage& image);

// A waitpid status as an exit code: the program's own, or 128 + the signal that ended it.
int decode_wait_status(int status);

}  // namespace cog::support
