#include "builder/pipeline/labels.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace cog::builder::pipeline {

std::string config_label(const config::Config& config, int max_concurrency) {
  using ordered = nlohmann::ordered_json;
  const auto& build = config.build;
  ordered build_json = ordered::object();
  if (build.gpu) build_json["gpu"] = true;
  build_json["python_version"] = build.python_version;
  if (!build.python_requirements.empty()) build_json["python_requirements"] = build.python_requirements;
  if (!build.python_packages.empty()) build_json["python_packages"] = build.python_packages;
  if (!build.system_packages.empty()) build_json["system_packages"] = build.system_packages;
  if (!build.run.empty()) {
    ordered steps = ordered::array();
    for (const auto& step : build.run) {
      if (step.mounts.empty()) {
        steps.push_back(step.command);
        continue;
      }
      ordered mounts = ordered::array();
      for (const auto& mount : step.mounts) {
        mounts.push_back({{"type", mount.type}, {"id", mount.id}, {"target", mount.target}});
      }
      steps.push_back({{"command", step.command}, {"mounts", mounts}});
    }
    build_json["run"] = steps;
  }
  if (!build.pre_install.empty()) build_json["pre_install"] = build.pre_install;
  if (!build.cuda.empty()) build_json["cuda"] = build.cuda;
  if (!build.cudnn.empty()) build_json["cudnn"] = build.cudnn;
  if (!build.sdk_version.empty()) build_json["sdk_version"] = build.sdk_version;

  ordered document = ordered::object();
  document["build"] = build_json;
  if (!config.image.empty()) document["image"] = config.image;
  if (!config.model.empty()) document["model"] = config.model;
  if (!config.run.empty()) document["predict"] = config.run;
  if (!config.train.empty()) document["train"] = config.train;
  if (config.concurrency || max_concurrency > 1) document["concurrency"] = {{"max", max_concurrency}};
  if (!config.environment.empty()) {
    ordered environment = ordered::array();
    for (const auto& [name, value] : config.environment) environment.push_back(name + "=" + value);
    document["environment"] = environment;
  }
  return document.dump();
}

std::map<std::string, std::string> image_labels(const LabelInputs& inputs) {
  std::map<std::string, std::string> labels = {
      {"run.cog.version", inputs.version},
      {"run.cog.config", inputs.config_json},
      {"run.cog.openapi_schema", inputs.openapi_schema},
      {"run.cog.pip_freeze", inputs.pip_freeze},
  };
  if (inputs.has_init) labels["run.cog.has_init"] = "true";
  if (!inputs.revision.empty()) labels["org.opencontainers.image.revision"] = inputs.revision;
  if (!inputs.source_version.empty()) labels["org.opencontainers.image.version"] = inputs.source_version;
  return labels;
}

namespace {

// The variable's value, else the first line git prints for `args` in the project ("" on failure).
std::string from_ci_or_git(const char* variable, const std::filesystem::path& project_dir,
                           std::vector<std::string> args) {
  if (const char* value = std::getenv(variable); value && *value) return value;
  args.insert(args.begin(), {"git", "-C", project_dir.string()});
  support::ProcessResult result;
  try {
    result = support::run_captured(args);
  } catch (const std::exception&) {
    return {};  // no git on this machine
  }
  if (result.exit_code != 0) return {};
  std::string line = result.stdout_text.substr(0, result.stdout_text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

std::string source_revision(const std::filesystem::path& project_dir) {
  return from_ci_or_git("GITHUB_SHA", project_dir, {"rev-parse", "HEAD"});
}

std::string source_version(const std::filesystem::path& project_dir) {
  return from_ci_or_git("GITHUB_REF_NAME", project_dir, {"describe", "--tags", "--dirty"});
}

}  // namespace cog::builder::pipeline
