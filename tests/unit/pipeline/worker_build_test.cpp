// The pure parts of compiling a worker for another Python: what is installed, what keys the
// cache, how apt's candidates are read. The compile itself runs in tests/e2e/test_python_versions.py.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "builder/pipeline/worker_build.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using cog::test::write_file;
using namespace cog::builder::pipeline;

namespace {}  // namespace

TEST_CASE("the compile installs g++ and the headers of the image's Python") {
  CHECK(worker_build_packages("3.13") ==
        std::vector<std::string>{"g++", "libpython3.13-dev", "nlohmann-json3-dev", "pybind11-dev"});
  CHECK(worker_pip_packages("/usr").empty());
}

TEST_CASE("a Python outside /usr brings its own headers, pybind11 comes pinned from PyPI") {
  CHECK(worker_build_packages("3.12", "/usr/local") == std::vector<std::string>{"g++", "nlohmann-json3-dev"});
  const auto pip = worker_pip_packages("/usr/local");
  REQUIRE(pip.size() == 1);
  CHECK(pip[0].starts_with("pybind11 2."));
  CHECK(pip[0].find("==") == std::string::npos);  // listed as "name version", as dpkg-query lists apt's
}

TEST_CASE("the sources' hash follows names and contents, not the build's stamp") {
  TempDir sources;
  write_file(sources.path / "runtime/worker/main.cc", "int main() {}\n");
  write_file(sources.path / "runtime/ipc/frame.cpp", "// frame\n");
  const auto first = hash_worker_sources(sources.path);
  CHECK(first.size() == 64);
  write_file(sources.path / ".complete", "");
  CHECK(hash_worker_sources(sources.path) == first);
  write_file(sources.path / "runtime/ipc/frame.cpp", "// frame, changed\n");
  const auto changed = hash_worker_sources(sources.path);
  CHECK(changed != first);
  fs::rename(sources.path / "runtime/ipc/frame.cpp", sources.path / "runtime/ipc/frame2.cpp");
  CHECK(hash_worker_sources(sources.path) != changed);
}

TEST_CASE("the cache key covers base, sources, Python and compiler versions, in any order") {
  const std::vector<std::string> compilers = {"g++ 4:14.2.0-1", "pybind11-dev 2.13.6-1"};
  const auto key = worker_cache_key("base", "sources", "3.13", compilers);
  CHECK(key == worker_cache_key("base", "sources", "3.13", {"pybind11-dev 2.13.6-1", "g++ 4:14.2.0-1"}));
  CHECK(key != worker_cache_key("base2", "sources", "3.13", compilers));
  CHECK(key != worker_cache_key("base", "sources2", "3.13", compilers));
  CHECK(key != worker_cache_key("base", "sources", "3.12", compilers));
  CHECK(key != worker_cache_key("base", "sources", "3.13", {"g++ 4:14.2.0-2", "pybind11-dev 2.13.6-1"}));
}

TEST_CASE("apt-cache policy output gives each package's candidate") {
  const std::string output =
      "g++:\n"
      "  Installed: (none)\n"
      "  Candidate: 4:14.2.0-1\n"
      "  Version table:\n"
      "     4:14.2.0-1 500\n"
      "        500 http://deb.debian.org/debian trixie/main amd64 Packages\n"
      "libpython3.13-dev:\n"
      "  Installed: (none)\n"
      "  Candidate: 3.13.5-2\n"
      "no-such-package:\n"
      "  Installed: (none)\n"
      "  Candidate: (none)\n";
  CHECK(parse_apt_candidates(output) == std::vector<std::string>{"g++ 4:14.2.0-1", "libpython3.13-dev 3.13.5-2"});
  CHECK(parse_apt_candidates("").empty());
}

TEST_CASE("without the worker's sources the compile is refused with what to do") {
  WorkerBuildRequest request;
  request.python_version = "3.13";
  TempDir empty;
  request.sources = empty.path;
  request.cache_root = empty.path / "cache";
  try {
    ensure_worker(request, {});
    FAIL("expected an error");
  } catch (const cog::Error& error) {
    CHECK(error.kind() == cog::ErrorKind::NotFound);
    CHECK(error.message().find("Python 3.13") != std::string::npos);
    CHECK(error.fix().find("worker-src") != std::string::npos);
  }
}

TEST_CASE("pruning keeps the most recently used workers of one Python and drops killed compiles") {
  TempDir workers;
  const auto now = fs::file_time_type::clock::now();
  int age = 0;
  for (const char* name : {"python3.13-aaaa", "python3.13-bbbb", "python3.13-cccc", "python3.13-dddd",
                           "python3.12-eeee", ".partial-x1y2z3"}) {
    write_file(workers.path / name / "worker.json", "{}");
    fs::last_write_time(workers.path / name, now - std::chrono::hours(++age));
  }
  prune_compiled_workers(workers.path, "3.13", 2);
  CHECK(fs::exists(workers.path / "python3.13-aaaa"));
  CHECK(fs::exists(workers.path / "python3.13-bbbb"));
  CHECK_FALSE(fs::exists(workers.path / "python3.13-cccc"));
  CHECK_FALSE(fs::exists(workers.path / "python3.13-dddd"));
  CHECK(fs::exists(workers.path / "python3.12-eeee"));  // another Python's workers are not counted
  CHECK_FALSE(fs::exists(workers.path / ".partial-x1y2z3"));
}
