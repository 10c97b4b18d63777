#include "runtime/worker/bindings.hpp"

#include <pybind11/embed.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "runtime/worker/host.hpp"

namespace py = pybind11;
using cog::runtime::worker::Host;

namespace {

// The healthcheck callable lives as long as the process: the worker leaves through _Exit, so a
// Python object never has to be released from a thread that does not hold the GIL.
std::function<void(long long)> healthcheck_caller(py::object check) {
  auto* held = new py::object(std::move(check));
  return [held](long long seq) {
    py::gil_scoped_acquire gil;
    try {
      (*held)(seq);
    } catch (py::error_already_set& error) {
      error.discard_as_unraisable("cog healthcheck");
    }
  };
}

}  // namespace

PYBIND11_EMBEDDED_MODULE(_cogworker, m) {
  using release = py::call_guard<py::gil_scoped_release>;
  py::class_<Host>(m, "Host")
      .def(
          "send", [](Host& host, const std::string& payload) { host.send(payload); }, release())
      .def("next_frame", &Host::next_frame, release())
      .def("frame_fd", &Host::frame_fd)
      .def("take_frames", &Host::take_frames)
      .def("log", &Host::log, release())
      .def("set_async", &Host::set_async)
      .def("set_active", &Host::set_active)
      .def("clear_active", &Host::clear_active)
      .def("take_cancel", &Host::take_cancel)
      .def("drain", &Host::drain, release())
      .def("output_pending", &Host::output_pending)
      .def("check_signals",
           [](Host&) {
             if (PyErr_CheckSignals() != 0) throw py::error_already_set();
           })
      .def("set_healthcheck", [](Host& host, py::object check) {
        host.set_healthcheck(check.is_none() ? std::function<void(long long)>{} : healthcheck_caller(std::move(check)));
      });
}

namespace cog::runtime::worker {
void link_bindings() {}
}  // namespace cog::runtime::worker
