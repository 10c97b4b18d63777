#include "builder/registry/credential_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "builder/support/error.hpp"

extern char** environ;

namespace cog::builder::registry {
namespace {

Error helper_error(const std::string& program, const std::string& what) {
  return Error(ErrorKind::Runtime, "credential helper " + program, what,
               "check the `credsStore` / `credHelpers` entries of your docker config.json");
}

// A helper that exits without reading stdin must not kill us with SIGPIPE: block it for this
// thread during the write and swallow the pending signal.
ssize_t write_no_sigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  ssize_t n = write(fd, data, size);
  if (n < 0 && errno == EPIPE) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return n;
}

// Pumps `input` into `to_child` while draining `from_out` and `from_err`, so no pipe can fill up.
void exchange(int to_child, int from_out, int from_err, const std::string& input, ProcessResult& result) {
  size_t written = 0;
  if (input.empty()) {
    close(to_child);
    to_child = -1;
  }
  int open_outputs = 2;
  char buffer[4096];
  while (open_outputs > 0 || to_child >= 0) {
    pollfd fds[3] = {{from_out, POLLIN, 0}, {from_err, POLLIN, 0}, {to_child, POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        (i == 0 ? from_out : from_err) = -1;
        --open_outputs;
      }
    }
    if (to_child >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = (fds[2].revents & POLLOUT) ? write_no_sigpipe(to_child, input.data() + written,
                                                                input.size() - written)
                                             : -1;
      if (n > 0) written += static_cast<size_t>(n);
      if (n <= 0 || written == input.size()) {
        close(to_child);
        to_child = -1;
      }
    }
  }
}

}  // namespace

ProcessResult run_with_input(const std::string& program, const std::string& argument,
                             const std::string& input) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
    throw helper_error(program, std::string("cannot create pipes: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::string arg0 = program;
  std::string arg1 = argument;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult result;
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw helper_error(program, std::string("cannot run it: ") + std::strerror(rc));
  }
  exchange(in_pipe[1], out_pipe[0], err_pipe[0], input, result);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::optional<Credentials> helper_get(const std::string& helper, const std::string& server) {
  std::string program = "docker-credential-" + helper;
  auto result = run_with_input(program, "get", server);
  if (result.exit_code != 0) {
    // The protocol's way to say "nothing stored" is this message on stdout.
    if (result.out.find("credentials not found") != std::string::npos) return std::nullopt;
    throw helper_error(program, "`get` failed: " + (result.out.empty() ? result.err : result.out));
  }
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw helper_error(program, "`get` did not print a JSON object");
  Credentials credentials;
  std::string username = json.value("Username", "");
  std::string secret = json.value("Secret", "");
  if (username == "<token>") {
    credentials.identity_token = secret;
  } else {
    credentials.username = username;
    credentials.password = secret;
  }
  if (credentials.empty()) return std::nullopt;
  return credentials;
}

void helper_store(const std::string& helper, const std::string& server, const Credentials& credentials) {
  std::string program = "docker-credential-" + helper;
  nlohmann::json payload = {{"ServerURL", server},
                            {"Username", credentials.username},
                            {"Secret", credentials.password}};
  auto result = run_with_input(program, "store", payload.dump());
  if (result.exit_code != 0)
    throw helper_error(program, "`store` failed: " + (result.out.empty() ? result.err : result.out));
}

}  // namespace cog::builder::registry
