#include "builder/pipeline/step_env.hpp"

#include <optional>

#include "builder/pipeline/cuda_layer.hpp"
#include "builder/config/env_expansion.hpp"
#include "builder/exec/install_steps.hpp"

namespace cog::builder::pipeline {
namespace {

const char* const kPipBreakSystemPackages = "PIP_BREAK_SYSTEM_PACKAGES=1";

}  // namespace

// The python:*-slim images Cog builds on do not mark Debian's Python externally managed, hence
// PIP_BREAK_SYSTEM_PACKAGES; cog.yaml's `environment` comes last, as Cog sets it before any
// package step.
std::vector<std::string> step_env(const BuildContext& ctx) {
  auto env = exec::default_step_env(ctx.options.source_date_epoch);
  // A base image's Env wins over the defaults, as RUN after FROM sees it.
  for (const auto& variable : ctx.base_env) {
    const auto name = variable.substr(0, variable.find('='));
    std::erase_if(env, [&](const std::string& set) { return set.substr(0, set.find('=')) == name; });
    env.push_back(variable);
  }
  env.push_back(std::string(kPipBreakSystemPackages));
  for (const auto& [name, value] : ctx.user_env) env.push_back(name + "=" + value);
  return env;
}

void trust_host(exec::StepSpec& spec) {
  if (auto bundle = exec::host_ca_bundle(); !bundle.empty()) exec::trust_host_certificates(spec, bundle);
}

std::vector<std::string> with_env(const BuildContext& ctx, std::vector<std::string> inputs) {
  for (const auto& [name, value] : ctx.user_env) inputs.push_back("env " + name + "=" + value);
  return inputs;
}

void set_user_env(BuildContext& ctx, const std::string& name, const std::string& value) {
  for (auto& [set_name, set_value] : ctx.user_env) {
    if (set_name == name) {
      set_value = value;
      return;
    }
  }
  ctx.user_env.emplace_back(name, value);
}

// Every value expanded as Docker does, against the variables as they were before the step (the
// CUDA layer's, a base image's, earlier steps'); LD_LIBRARY_PATH also loses empty and repeated entries.
void set_env_step(BuildContext& ctx, const plan::Step& step) {
  auto before = [&ctx](const std::string& name) -> std::optional<std::string> {
    for (const auto& [set_name, value] : ctx.user_env) {
      if (set_name == name) return value;
    }
    if (name == "PATH" && !ctx.image.config().config.get_env("PATH")) return std::string(kDefaultPath);
    return ctx.image.config().config.get_env(name);
  };
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& variable : step.env) {
    const std::string where =
        step.kind == plan::StepKind::UserEnvironment ? "environment: " + variable.name : "ENV " + variable.name;
    std::string value = config::expand_env_value(variable.value, before, where);
    if (variable.name == "LD_LIBRARY_PATH") value = expand_library_path(value, "");
    values.emplace_back(variable.name, std::move(value));
  }
  for (const auto& [name, value] : values) set_user_env(ctx, name, value);
}

}  // namespace cog::builder::pipeline
