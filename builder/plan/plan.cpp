// Laying out the steps of an image build in Cog's order (reference §3.5).
#include "builder/plan/plan.hpp"
#include "support/text.hpp"

#include <algorithm>

namespace cog::builder::plan {
namespace {

namespace cfg = cog::builder::config;

// Versions Cog pins in the Dockerfiles it generates.
constexpr const char* kTiniVersion = "v0.19.0";
constexpr const char* kUvImage = "ghcr.io/astral-sh/uv:0.9.26";
constexpr int kServerPort = 5000;

}  // namespace

// Packages every cog-base image already has; Cog leaves them out of `system_packages` there.
const std::vector<std::string> kCogBaseAptPackages = {"build-essential",
                                                      "cmake",
                                                      "curl",
                                                      "ffmpeg",
                                                      "findutils",
                                                      "g++",
                                                      "gcc",
                                                      "git",
                                                      "libavcodec-dev",
                                                      "libcairo2-dev",
                                                      "libfontconfig1",
                                                      "libgirepository1.0-dev",
                                                      "libgl1",
                                                      "libglx-mesa0",
                                                      "libglib2.0-0",
                                                      "libopencv-dev",
                                                      "libsm6",
                                                      "libsndfile1",
                                                      "libssl-dev",
                                                      "libunistring-dev",
                                                      "libxext6",
                                                      "libxrender1",
                                                      "sox",
                                                      "unzip",
                                                      "wget",
                                                      "zip",
                                                      "zstd"};

const std::vector<std::string>& cog_base_apt_packages() { return kCogBaseAptPackages; }

namespace {

// What Python needs on a bare nvidia/cuda image before uv can install it.
const std::vector<std::string> kPythonToolchainPackages = {"wget", "curl", "xz-utils", "git", "ca-certificates"};

Step step(StepKind kind, std::vector<CacheInput> inputs = {}, std::string deviation = {}) {
  Step result;
  result.kind = kind;
  result.cache_inputs = std::move(inputs);
  result.deviation = std::move(deviation);
  return result;
}

void add_base_steps(Plan& plan, const PlanOptions& options) {
  if (!plan.weights_image.empty()) {
    Step weights = step(StepKind::WeightsStage, {{"image", plan.weights_image}},
                        "no separate weights image: the weights become layers of the runner image "
                        "directly, cached by file digest");
    weights.image = plan.weights_image;
    plan.steps.push_back(std::move(weights));
  }
  Step base = step(StepKind::Base, {{"image", plan.base.reference}});
  base.image = plan.base.reference;
  if (plan.base.kind == cfg::BaseImageKind::CogBase) {
    base.deviation =
        "cog-base images live on r8.im, which this builder may not reach: when the "
        "pull fails, re-plan with use_cog_base_image = false";
  }
  plan.steps.push_back(std::move(base));
}

void add_environment_steps(Plan& plan, const PlanOptions& options, bool cog_base) {
  if (!cog_base) {
    Step preamble = step(StepKind::Preamble);
    preamble.env = {{"DEBIAN_FRONTEND", "noninteractive"},
                    {"PYTHONUNBUFFERED", "1"},
                    {"LD_LIBRARY_PATH",
                     "$LD_LIBRARY_PATH:/usr/lib/x86_64-linux-gnu:/usr/local/nvidia/lib64:/usr/"
                     "local/nvidia/bin"},
                    {"NVIDIA_DRIVER_CAPABILITIES", "all"}};
    for (const auto& var : preamble.env) preamble.cache_inputs.push_back({var.name, var.value});
    plan.steps.push_back(std::move(preamble));
  }
  if (options.ca_cert) {
    plan.steps.push_back(step(StepKind::CaCert, {{"certificate", "contents of COG_CA_CERT"}}));
  }
  if (!cog_base) {
    Step init = step(StepKind::Init, {{"tini", kTiniVersion}},
                     "tini is not downloaded from GitHub during the build: the builder adds its "
                     "own copy of the same release");
    init.version = kTiniVersion;
    plan.steps.push_back(std::move(init));
  }
  if (!plan.config.environment.empty()) {
    Step user = step(StepKind::UserEnvironment);
    for (const auto& [name, value] : plan.config.environment) user.env.push_back({name, value});
    std::stable_sort(user.env.begin(), user.env.end(),
                     [](const EnvVar& a, const EnvVar& b) { return a.name < b.name; });
    for (const auto& var : user.env) user.cache_inputs.push_back({var.name, var.value});
    plan.steps.push_back(std::move(user));
  }
}

void add_system_packages(Plan& plan, bool cog_base) {
  std::vector<std::string> packages;
  for (const auto& name : plan.config.build.system_packages) {
    bool in_base = cog_base &&
                   std::find(kCogBaseAptPackages.begin(), kCogBaseAptPackages.end(), name) != kCogBaseAptPackages.end();
    if (!in_base) packages.push_back(name);
  }
  if (packages.empty()) return;
  Step apt = step(StepKind::AptPackages, {{"packages", support::join(packages, " ")}},
                  "the apt cache is a builder-managed directory, never part of the layer");
  apt.packages = std::move(packages);
  plan.steps.push_back(std::move(apt));
}

void add_python_steps(Plan& plan, bool on_cuda_base) {
  const auto& build = plan.config.build;
  std::string python = build.python_version_as_written.empty() ? build.python_version : build.python_version_as_written;
  if (on_cuda_base) {
    Step toolchain = step(StepKind::PythonToolchain, {{"packages", support::join(kPythonToolchainPackages, " ")}});
    toolchain.packages = kPythonToolchainPackages;
    plan.steps.push_back(std::move(toolchain));
  }
  Step uv = step(StepKind::UvInstall, {{"image", kUvImage}});
  uv.image = kUvImage;
  uv.env = {{"UV_SYSTEM_PYTHON", "true"}};
  plan.steps.push_back(std::move(uv));
  if (on_cuda_base) {
    Step install = step(StepKind::PythonInstall, {{"python", python}});
    install.version = python;
    install.env = {{"UV_PYTHON", python}};
    plan.steps.push_back(std::move(install));
  }
  if (plan.base.kind == cfg::BaseImageKind::CogBase && build.gpu && cfg::compare_versions(build.cuda, "13") >= 0) {
    plan.steps.push_back(step(StepKind::PythonSymlink));
  }
}

void add_requirements_step(Plan& plan, bool break_system_packages) {
  if (plan.requirements.empty()) return;
  Step pip = step(StepKind::PipRequirements, {{"requirements.txt", plan.requirements}},
                  "the pip cache is a builder-managed directory, never part of the layer");
  pip.text = plan.requirements;
  pip.packages = plan.local_artifacts;
  for (const auto& artifact : plan.local_artifacts) {
    pip.cache_inputs.push_back({"local artifact", artifact + " (digest of its contents)"});
  }
  pip.break_system_packages = break_system_packages;
  plan.steps.push_back(std::move(pip));
}

void add_sdk_step(Plan& plan, const PlanOptions& options, bool break_system_packages) {
  auto [package, pre_release] = sdk_package_spec(plan.config.build.sdk_version, options.sdk_wheel);
  Step sdk = step(StepKind::SdkInstall, {{"package", package}},
                  "installs this project's runtime (cog-server, cog-worker and the cog Python "
                  "package from runtime/python) instead of the cog/coglet wheels from PyPI");
  sdk.package = package;
  sdk.pre_release = pre_release;
  sdk.break_system_packages = break_system_packages;
  plan.steps.push_back(std::move(sdk));
}

void add_run_steps(Plan& plan) {
  auto add = [&](const std::string& command, const std::vector<cfg::SecretMount>& secrets) {
    Step run = step(StepKind::RunCommand, {{"command", command}});
    for (const auto& secret : secrets) {
      // BuildKit keys on the mount, never on the secret's value; so do we.
      run.cache_inputs.push_back({"secret", secret.id + " -> " + secret.target});
    }
    if (!secrets.empty()) {
      run.deviation = "secrets are mounted by the builder's isolated executor, not BuildKit";
    }
    run.command = command;
    run.secrets = secrets;
    plan.steps.push_back(std::move(run));
  };
  for (const auto& item : plan.config.build.run) add(item.command, item.mounts);
  for (const auto& command : plan.config.build.pre_install) add(command, {});
}

void add_weights_copies(Plan& plan) {
  if (plan.weights_image.empty()) return;
  auto add = [&](const std::string& path) {
    Step copy = step(StepKind::WeightsCopy, {{"path", path}, {"contents", "digests of the files"}});
    copy.path = path;
    plan.steps.push_back(std::move(copy));
  };
  for (const auto& dir : plan.weights.dirs) add(dir);
  for (const auto& file : plan.weights.files) add(file);
}

void add_runtime_steps(Plan& plan, const PlanOptions& options) {
  Step workdir = step(StepKind::Workdir, {{"path", "/src"}});
  workdir.path = "/src";
  plan.steps.push_back(std::move(workdir));
  Step expose = step(StepKind::Expose, {{"port", std::to_string(kServerPort)}});
  expose.port = kServerPort;
  plan.steps.push_back(std::move(expose));

  Step env = step(StepKind::RuntimeEnvironment);
  const auto& config = plan.config;
  if (!config.run.empty()) env.env.push_back({"COG_PREDICT_TYPE_STUB", config.run});
  if (!config.train.empty()) env.env.push_back({"COG_TRAIN_TYPE_STUB", config.train});
  if (config.concurrency) {
    env.env.push_back({"COG_MAX_CONCURRENCY", std::to_string(config.concurrency->max)});
  }
  for (const auto& var : env.env) env.cache_inputs.push_back({var.name, var.value});
  if (!env.env.empty()) plan.steps.push_back(std::move(env));

  Step cmd = step(StepKind::Cmd, {{"command", "python -m cog.server.http"}},
                  "the image runs this project's cog-server, which hosts the model through "
                  "cog-worker, in place of python -m cog.server.http");
  cmd.command = "python -m cog.server.http";
  plan.steps.push_back(std::move(cmd));

  if (options.dev) return;  // dev builds mount the project at /src instead
  plan.steps.push_back(step(StepKind::CopySource, {{"project files",
                                                    "contents of the project directory without .cog/, "
                                                    ".dockerignore'd paths and separated weights"}}));
  if (options.config_file_name != "cog.yaml") {
    Step copy = step(StepKind::CopyConfig, {{"file", options.config_file_name}});
    copy.path = options.config_file_name;
    plan.steps.push_back(std::move(copy));
  }
}

}  // namespace

std::pair<std::string, bool> sdk_package_spec(const std::string& sdk_version, const std::string& sdk_wheel) {
  if (sdk_wheel == "pypi") return {"cog", false};
  if (sdk_wheel.starts_with("pypi:")) {
    std::string version = sdk_wheel.substr(5);
    return sdk_package_spec(version, "");
  }
  if (sdk_wheel.starts_with("https://") || sdk_wheel.starts_with("http://")) return {sdk_wheel, false};
  // A local wheel (read_wheel_setting resolved it): Cog copies it into the build context's /tmp.
  if (sdk_wheel.starts_with("/") && sdk_wheel.ends_with(".whl")) {
    return {"/tmp/" + sdk_wheel.substr(sdk_wheel.rfind('/') + 1), false};
  }
  if (!sdk_wheel.empty()) {
    throw Error(ErrorKind::Usage, "COG_SDK_WHEEL", "unsupported value \"" + sdk_wheel + "\"",
                "use pypi, pypi:<version> or an https:// URL of a wheel");
  }
  if (sdk_version.empty()) return {"cog", false};
  if (sdk_version == "prerelease") return {"cog", true};
  // PEP 440 pre-releases (0.18.0a1, 0.18.0b2, 0.18.0rc1, 0.18.0.dev3) need pip's --pre.
  bool pre = sdk_version.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos &&
             sdk_version.find("post") == std::string::npos;
  return {"cog==" + sdk_version, pre};
}

Plan make_plan(cfg::Config config, const cfg::CompatMatrix& matrix, const PlanOptions& options) {
  Plan plan;
  plan.warnings = cfg::complete_cuda(config, matrix);
  plan.config = std::move(config);
  plan.base = cfg::choose_base_image(plan.config, matrix, options.base);
  plan.warnings.insert(plan.warnings.end(), plan.base.warnings.begin(), plan.base.warnings.end());

  bool cog_base = plan.base.kind == cfg::BaseImageKind::CogBase;
  bool on_cuda_base = plan.base.kind == cfg::BaseImageKind::Cuda;
  std::vector<std::string> include_packages;
  if (cog_base && !plan.base.torch_in_base.empty()) {
    include_packages.push_back("torch==" + plan.base.torch_in_base);
  }
  auto requirements = cfg::generate_requirements(plan.config, matrix, include_packages);
  plan.requirements = std::move(requirements.text);
  plan.local_artifacts = std::move(requirements.local_artifacts);
  plan.warnings.insert(plan.warnings.end(), requirements.warnings.begin(), requirements.warnings.end());

  if (options.separate_weights) {
    if (options.image_name.empty()) {
      throw Error(ErrorKind::Usage, "--separate-weights", "an image name is required",
                  "pass --image-name or set image in cog.yaml");
    }
    plan.weights = options.weights ? *options.weights : find_weights(plan.config.project_dir);
    plan.weights_image = options.image_name + "-weights";
  }

  add_base_steps(plan, options);
  add_environment_steps(plan, options, cog_base);
  add_system_packages(plan, cog_base);
  if (cog_base) {
    // Requirements before the SDK, so a new SDK does not rebuild the expensive torch layer.
    add_python_steps(plan, false);
    add_requirements_step(plan, false);
    add_sdk_step(plan, options, false);
  } else {
    add_python_steps(plan, on_cuda_base);
    add_requirements_step(plan, on_cuda_base);
    add_sdk_step(plan, options, on_cuda_base);
    plan.steps.push_back(step(StepKind::LdConfig));
  }
  add_run_steps(plan);
  add_weights_copies(plan);
  add_runtime_steps(plan, options);
  return plan;
}

}  // namespace cog::builder::plan
