// env-docker, env-python-version, env-gpu-compat: whether this machine can build and run the
// project. Cog asks for Docker; we build without a daemon, so env-docker asks for what `cog run`
// and `cog serve` start containers with: runc or crun (or docker/podman for --runtime).
#include "builder/config/compat.hpp"
#include "builder/container/gpu.hpp"
#include "builder/doctor/doctor.hpp"
#include "builder/exec/debian_suites.hpp"
#include "builder/pipeline/python_standalone.hpp"

namespace cog::builder::doctor {

namespace {

bool is_set(const Host& host, const std::string& name) {
  auto value = host.getenv(name);
  return value && !value->empty();
}

class ContainerRuntime : public Check {
 public:
  std::string id() const override { return "env-docker"; }
  std::string description() const override { return "A container runtime for cog run and cog serve"; }
  CheckOutcome run(const Project&, const Host& host) const override {
    CheckOutcome outcome;
    if (is_set(host, "COG_SKIP_DOCKER_CHECK")) {
      outcome.skipped = "COG_SKIP_DOCKER_CHECK is set";
      return outcome;
    }
    if (host.container_runtime()) return outcome;
    Finding finding;
    finding.severity = Severity::Warning;
    finding.message =
        "no container runtime found (runc, crun, docker or podman): `cog build` works, but `cog run`, "
        "`cog serve` and `cog exec` cannot start the image";
    finding.remediation = "install one, e.g. `apt-get install runc` (then `cog run` uses it)";
    outcome.findings.push_back(finding);
    return outcome;
  }
};

class PythonVersion : public Check {
 public:
  std::string id() const override { return "env-python-version"; }
  std::string description() const override { return "A Python for build.python_version"; }
  CheckOutcome run(const Project& project, const Host& host) const override {
    CheckOutcome outcome;
    if (!project.loaded) {
      outcome.skipped = project.config_label + " has errors (above)";
      return outcome;
    }
    const auto& build = project.loaded->config.build;
    std::string wanted =
        build.python_version_as_written.empty() ? build.python_version : build.python_version_as_written;
    if (wanted.empty()) return outcome;
    std::string why;
    try {
      exec::suite_for_python(wanted);
      return outcome;
    } catch (const Error& error) {
      why = error.message();
    }
    std::string setting = host.getenv(pipeline::kPythonStandaloneVariable).value_or("");
    if (!setting.empty()) {
      auto offer = pipeline::standalone_archives(setting);
      if (pipeline::pick_standalone(offer.archives, wanted)) return outcome;
    }
    Finding finding;
    finding.severity = Severity::Error;
    finding.where = Location{project.config_label, project.line_of({"build", "python_version"}), 0};
    finding.message = "no Python " + wanted + " to build with: " + why +
                      (setting.empty() ? std::string(", and COG_PYTHON_STANDALONE lists no archives")
                                       : ", and no archive in COG_PYTHON_STANDALONE has it");
    finding.remediation = "set build.python_version to one of " + exec::debian_python_offers() +
                          ", or list a python-build-standalone archive of " + wanted +
                          " in COG_PYTHON_STANDALONE (docs/building.md, \"Other Python versions\")";
    outcome.findings.push_back(finding);
    return outcome;
  }
};

class GpuCompat : public Check {
 public:
  std::string id() const override { return "env-gpu-compat"; }
  std::string description() const override { return "The NVIDIA driver supports the configured CUDA"; }
  CheckOutcome run(const Project& project, const Host& host) const override {
    CheckOutcome outcome;
    if (is_set(host, "COG_SKIP_GPU_CHECK")) {
      outcome.skipped = "COG_SKIP_GPU_CHECK is set";
      return outcome;
    }
    if (!project.loaded) {
      outcome.skipped = project.config_label + " has errors (above)";
      return outcome;
    }
    config::Config config = project.loaded->config;
    if (!config.build.gpu) return outcome;
    Location where{project.config_label, project.line_of({"build", "gpu"}), 0};
    try {
      config::complete_cuda(config, config::CompatMatrix::builtin());
    } catch (const Error& error) {
      outcome.findings.push_back({Severity::Error, where, error.message(), error.fix(), false});
      return outcome;
    }
    auto driver = host.driver_cuda_version();
    if (!driver) {
      outcome.findings.push_back(
          {Severity::Warning, where,
           "gpu: true, but this machine has no NVIDIA driver (libcuda.so.1 not found): the image builds, but "
           "`cog run` here cannot give it a GPU",
           "run it on a machine whose NVIDIA driver supports CUDA " + config.build.cuda +
               " or newer, or set COG_SKIP_GPU_CHECK=1 when this machine only builds",
           false});
      return outcome;
    }
    try {
      container::check_driver_supports(config.build.cuda, *driver);
    } catch (const Error& error) {
      int line = project.line_of({"build", "cuda"});
      if (line > 0) where.line = line;
      outcome.findings.push_back({Severity::Error, where, error.message(), error.fix(), false});
    }
    return outcome;
  }
};

}  // namespace

std::unique_ptr<Check> container_runtime_check() { return std::make_unique<ContainerRuntime>(); }
std::unique_ptr<Check> python_version_check() { return std::make_unique<PythonVersion>(); }
std::unique_ptr<Check> gpu_compat_check() { return std::make_unique<GpuCompat>(); }

}  // namespace cog::builder::doctor
