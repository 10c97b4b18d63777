// cog-worker: hosts the user's runner in an embedded CPython and serves the supervisor over one
// control socket. Started only by cog-server; see PROTOCOL.md for the frames.
#include <pybind11/embed.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <unistd.h>

#include "runtime/worker/bindings.hpp"
#include "runtime/worker/capture.hpp"
#include "runtime/worker/driver_source.hpp"
#include "runtime/worker/host.hpp"

namespace py = pybind11;
using namespace cog::runtime::worker;

namespace {

struct Options {
  int control_fd = -1;
  std::string ref;
  std::string mode = "predict";
  std::string project_dir = ".";
  std::string upload_url;
};

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--control-fd")
      options.control_fd = std::atoi(value.c_str());
    else if (flag == "--ref")
      options.ref = value;
    else if (flag == "--mode")
      options.mode = value;
    else if (flag == "--project-dir")
      options.project_dir = value;
    else if (flag == "--upload-url")
      options.upload_url = value;
    else
      return false;
  }
  return options.control_fd >= 0 && !options.ref.empty();
}

void block_usr1(int how) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(how, &set, nullptr);
}

// The embedded interpreter, with Python's own signal handlers. Debian's Python finds its standard
// library from the prefix compiled into libpython; a relocated one (python-build-standalone,
// unpacked to /usr/local) does not, so a worker compiled for it is told its home at build time.
void start_interpreter(std::optional<py::scoped_interpreter>& interpreter, const char* const* argv) {
#ifdef COG_PYTHON_HOME
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  PyConfig_SetBytesString(&config, &config.home, COG_PYTHON_HOME);
  interpreter.emplace(&config, 1, argv, false);
#else
  interpreter.emplace(true, 1, argv, false);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::cerr << "cog-worker: error: usage: cog-worker --control-fd N --ref file.py:Name "
                 "[--mode predict|train] [--project-dir DIR] [--upload-url URL] — this program "
                 "is started by cog-server, not by hand\n";
    return 2;
  }
  link_bindings();
  Capture capture;
  capture.redirect();
  Host host(options.control_fd, capture, pthread_self());
  // Helper threads never see SIGUSR1: cancel signals must interrupt the main thread's run().
  block_usr1(SIG_BLOCK);
  capture.start([&host](const char* source, std::string data) { host.emit_log(source, std::move(data)); });
  host.start_reader();
  block_usr1(SIG_UNBLOCK);

  int status = 0;
  {
    const char* py_argv[] = {"cog-worker"};
    std::optional<py::scoped_interpreter> interpreter;
    start_interpreter(interpreter, py_argv);
    try {
      py::module_ driver = py::module_::import("types").attr("ModuleType")("cog_worker_driver");
      py::module_ builtins = py::module_::import("builtins");
      builtins.attr("exec")(builtins.attr("compile")(kDriverSource, "<cog-worker driver>", "exec"),
                            driver.attr("__dict__"));
      py::module_::import("_cogworker");
      driver.attr("main")(py::cast(&host, py::return_value_policy::reference), options.ref, options.mode,
                          options.project_dir, options.upload_url, COG_VERSION);
    } catch (const std::exception& error) {
      const std::string message = std::string("cog-worker: error: ") + error.what() + "\n";
      (void)!::write(capture.original_stderr(), message.data(), message.size());
      status = 1;
    }
    std::fflush(nullptr);
    capture.drain();
    // Skip interpreter finalisation: user threads and C extensions may hang it.
    std::_Exit(status);
  }
}
