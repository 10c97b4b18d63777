#include <doctest/doctest.h>

#include "doctor_fixture.hpp"

using namespace cog::builder::doctor;
using cog::test::DoctorProject;
using cog::test::FakeHost;

TEST_CASE("env-docker wants a container runtime, unless skipped") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml).write("run.py", cog::test::kRunnerPy);
  FakeHost host;
  CHECK(container_runtime_check()->run(project.inspect(), host.host()).findings.empty());
  host.runtime.reset();
  auto outcome = container_runtime_check()->run(project.inspect(), host.host());
  REQUIRE(outcome.findings.size() == 1);
  CHECK(outcome.findings[0].severity == Severity::Warning);
  CHECK(outcome.findings[0].remediation.find("runc") != std::string::npos);
  host.env["COG_SKIP_DOCKER_CHECK"] = "1";
  outcome = container_runtime_check()->run(project.inspect(), host.host());
  CHECK(outcome.findings.empty());
  CHECK(outcome.skipped == "COG_SKIP_DOCKER_CHECK is set");
}

TEST_CASE("env-python-version knows which Pythons a build can have") {
  DoctorProject project;
  project.write("cog.yaml", cog::test::kCogYaml).write("run.py", cog::test::kRunnerPy);
  CHECK(python_version_check()->run(project.inspect(), FakeHost{}.host()).findings.empty());
  project.write("cog.yaml", "build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n");
  auto found = python_version_check()->run(project.inspect(), FakeHost{}.host()).findings;
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::Error);
  CHECK(found[0].where.str() == "cog.yaml:2");
  CHECK(found[0].remediation.find("COG_PYTHON_STANDALONE") != std::string::npos);
  // An archive of that version in COG_PYTHON_STANDALONE makes it buildable (it is only named here).
  project.write("pbs/cpython-3.12.12+20251014-x86_64-unknown-linux-gnu-install_only.tar.gz", "x");
  FakeHost host;
  host.env["COG_PYTHON_STANDALONE"] = (project.temp.path / "pbs").string();
  CHECK(python_version_check()->run(project.inspect(), host.host()).findings.empty());
}

TEST_CASE("env-gpu-compat compares the driver with the CUDA the config resolves to") {
  DoctorProject project;
  project.write("run.py", cog::test::kRunnerPy)
      .write("cog.yaml", "build:\n  python_version: \"3.11\"\n  gpu: true\n  cuda: \"12.4\"\nrun: \"run.py:Runner\"\n");
  FakeHost host;
  auto found = gpu_compat_check()->run(project.inspect(), host.host()).findings;
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::Warning);
  CHECK(found[0].message.find("no NVIDIA driver") != std::string::npos);
  host.driver = 12020;  // CUDA 12.2
  found = gpu_compat_check()->run(project.inspect(), host.host()).findings;
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::Error);
  CHECK(found[0].where.str() == "cog.yaml:4");
  CHECK(found[0].message.find("needs CUDA 12.4") != std::string::npos);
  host.driver = 12080;
  CHECK(gpu_compat_check()->run(project.inspect(), host.host()).findings.empty());
  // Without gpu: true there is nothing to compare; COG_SKIP_GPU_CHECK skips the check.
  project.write("cog.yaml", cog::test::kCogYaml);
  host.driver.reset();
  CHECK(gpu_compat_check()->run(project.inspect(), host.host()).findings.empty());
  host.env["COG_SKIP_GPU_CHECK"] = "1";
  CHECK(gpu_compat_check()->run(project.inspect(), host.host()).skipped == "COG_SKIP_GPU_CHECK is set");
}

TEST_CASE("env-gpu-compat reports a GPU config that cannot resolve a CUDA") {
  DoctorProject project;
  project.write("run.py", cog::test::kRunnerPy)
      .write("requirements.txt", "torch\n")
      .write("cog.yaml",
             "build:\n  python_version: \"3.11\"\n  gpu: true\n  python_requirements: requirements.txt\n"
             "run: \"run.py:Runner\"\n");
  auto found = gpu_compat_check()->run(project.inspect(), FakeHost{}.host()).findings;
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::Error);
  CHECK(found[0].message.find("torch version must be specified") != std::string::npos);
}
