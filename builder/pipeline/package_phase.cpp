#include "builder/pipeline/package_phase.hpp"

#include <algorithm>
#include <fstream>

#include "builder/pipeline/cuda_layer.hpp"
#include "builder/pipeline/layer_chain.hpp"
#include "builder/pipeline/secrets.hpp"
#include "builder/pipeline/source_phase.hpp"
#include "builder/pipeline/step_env.hpp"
#include "builder/exec/install_steps.hpp"
#include "builder/oci/files.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : " ") + item;
  return text;
}

}  // namespace

void add_cuda_runtime(BuildContext& ctx) {
  auto cuda = plan_cuda_runtime(ctx.plan.config);
  if (!cuda || ctx.image.config().config.get_env("CUDA_VERSION")) return;
  if (ctx.options.use_cuda_base_image == "false") {
    ctx.progress("  NOTE --use-cuda-base-image=false: no CUDA layer; the Python packages bring their own");
    return;
  }
  for (const auto& [name, value] : cuda->env) set_user_env(ctx, name, value);
  for (const auto& [name, value] : cuda->labels) ctx.image.config().config.labels[name] = value;
  if (!cuda->note.empty()) ctx.progress("  NOTE " + cuda->note);
  if (cuda->requirements.empty()) return;
  std::string pins;
  for (const auto& wheel : cuda->wheels) pins += " " + wheel.package + "==" + wheel.version;
  ctx.progress("  CUDA wheels:" + pins);
  const fs::path requirements = ctx.work.path / "cuda-requirements.txt";
  std::ofstream(requirements) << cuda->requirements;
  auto spec = cuda_runtime_step(requirements, ctx.caches, ctx.options.source_date_epoch);
  spec.env = step_env(ctx);
  trust_host(spec);
  sandbox_layer(ctx, cuda->description, spec, with_env(ctx, {cuda->requirements, "cuda layer 1"}));
}

void add_cog_base_packages(BuildContext& ctx) {
  if (!ctx.cog_base) return;
  const auto& packages = plan::cog_base_apt_packages();
  auto spec = exec::apt_install_step(packages, ctx.caches, ctx.base.suite, "amd64", ctx.options.source_date_epoch);
  spec.env = step_env(ctx);
  trust_host(spec);
  // Keyed by the base and the package list only (no cog.yaml input comes before it), so every
  // model on the same base shares the layer, as they share r8.im/cog-base.
  const std::string description = "cog-base packages: apt-get install " + join(packages);
  const std::vector<std::string> inputs = {"cog-base packages 1"};
  const std::string key = next_key(ctx, description, inputs);
  // One build makes it at a time (two apt-gets on one apt cache would fail on its lock); the
  // others wait, then find it in their store or adopt it from another (~2 GB: never remade per store).
  fs::create_directories(ctx.cache_root / "shared-layers");
  oci::files::Lock lock(ctx.cache_root / "shared-layers" / (key + ".lock"));
  adopt_shared_layer(ctx, key);
  sandbox_layer(ctx, description, spec, inputs);
  share_layer(ctx, key);
}

void install_system_packages(BuildContext& ctx, const plan::Step& step) {
  std::vector<std::string> packages;
  const auto& in_cog_base = plan::cog_base_apt_packages();
  for (const auto& package : step.packages) {
    // As Cog does on cog-base: what the base already has is left out.
    if (ctx.cog_base && std::find(in_cog_base.begin(), in_cog_base.end(), package) != in_cog_base.end()) continue;
    packages.push_back(package);
  }
  if (packages.empty()) return;
  auto spec = exec::apt_install_step(packages, ctx.caches, ctx.base.suite, "amd64", ctx.options.source_date_epoch);
  spec.env = step_env(ctx);
  trust_host(spec);
  sandbox_layer(ctx, "apt-get install " + join(packages), spec, with_env(ctx, packages));
}

void install_python_packages(BuildContext& ctx) {
  const fs::path requirements = ctx.work.path / "requirements.txt";
  std::ofstream(requirements) << ctx.plan.requirements;
  auto spec = exec::pip_install_step(requirements, ctx.caches, ctx.options.source_date_epoch);
  spec.env = step_env(ctx);
  trust_host(spec);
  auto inputs = with_env(ctx, {ctx.plan.requirements});
  add_local_artifacts(ctx, spec, inputs);
  sandbox_layer(ctx, "pip install -r requirements.txt", spec, inputs);
}

void run_command(BuildContext& ctx, const plan::Step& step) {
  exec::StepSpec spec;
  spec.argv = {"/bin/sh", "-c", step.command};
  if (!ctx.base_workdir.empty()) spec.workdir = ctx.base_workdir;
  spec.env = step_env(ctx);
  trust_host(spec);
  std::vector<std::string> inputs = with_env(ctx, {step.command});
  mount_secrets(ctx, step, spec, inputs);
  sandbox_layer(ctx, "RUN " + step.command, spec, inputs);
}

}  // namespace cog::builder::pipeline
