// The driver: runs the phases over one BuildContext in order, times each, and commits the image.
// What each phase does is in the file named after it (context.hpp lists them).
#include "builder/pipeline/pipeline.hpp"

#include <algorithm>

#include "builder/pipeline/base_phase.hpp"
#include "builder/pipeline/context.hpp"
#include "builder/pipeline/labels.hpp"
#include "builder/pipeline/package_phase.hpp"
#include "builder/pipeline/runtime_files.hpp"
#include "builder/weights/lockfile.hpp"
#include "builder/pipeline/runtime_phase.hpp"
#include "builder/pipeline/schema_phase.hpp"
#include "builder/pipeline/source_phase.hpp"
#include "builder/pipeline/wheel_phase.hpp"
#include "builder/pipeline/step_env.hpp"
#include "builder/config/compat.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/plan/plan.hpp"
#include "builder/plan/wheels.hpp"

namespace cog::builder::pipeline {
namespace {

void make_plan(BuildContext& ctx) {
  plan::PlanOptions plan_options;
  plan_options.dev = ctx.options.dev;
  plan_options.separate_weights = ctx.options.separate_weights && !ctx.options.dev;
  plan_options.image_name = ctx.result.image_name;
  plan_options.config_file_name = ctx.options.config_file_name;
  plan_options.base.use_cuda_base_image = ctx.options.use_cuda_base_image;
  std::vector<std::string> warnings;
  // Would Cog start from cog-base? (An explicit --use-cog-base-image for a combination it does
  // not publish fails here, as in Cog.) --base-image is a base of the user's choosing instead.
  if (ctx.options.base_image.empty() && ctx.options.use_cog_base_image.value_or(true)) {
    plan_options.base.use_cog_base_image = ctx.options.use_cog_base_image;
    auto wanted = plan::make_plan(ctx.config, config::CompatMatrix::builtin(), plan_options);
    ctx.cog_base = wanted.base.kind == config::BaseImageKind::CogBase;
    for (const auto& warning : wanted.warnings) warnings.push_back(warning.describe());
  }
  // r8.im's cog-base itself is never pulled (unreachable here): the steps are the plain layout's,
  // and cog-base's packages are a layer of their own over our Debian base (base_phase.cpp).
  plan_options.base.use_cog_base_image = false;
  ctx.plan = plan::make_plan(ctx.config, config::CompatMatrix::builtin(), plan_options);
  for (const auto& warning : ctx.plan.warnings) {
    if (std::find(warnings.begin(), warnings.end(), warning.describe()) == warnings.end()) {
      warnings.push_back(warning.describe());
    }
  }
  for (const auto& warning : warnings) ctx.progress("warning: " + warning);
  // COG_SDK_WHEEL / COGLET_WHEEL: read as Cog reads them (a missing path fails the build); either
  // set, the image runs Cog's runtime from those wheels (wheel_phase.hpp).
  ctx.sdk_wheel = plan::sdk_wheel_setting(ctx.config.project_dir);
  ctx.coglet_wheel = plan::coglet_wheel_setting(ctx.config.project_dir);
  ctx.cog_runtime = plan::uses_cog_runtime(ctx.sdk_wheel, ctx.coglet_wheel);
  if (ctx.cog_runtime) {
    for (const auto& wheel : {ctx.sdk_wheel, ctx.coglet_wheel}) {
      ctx.progress("  NOTE " + plan::describe_wheel_setting(wheel, true));
    }
  }
  ctx.max_concurrency = ctx.plan.config.concurrency ? ctx.plan.config.concurrency->max : ctx.schema.max_concurrency;
}

// One step of the plan, as the phase that does it.
void execute(BuildContext& ctx, const plan::Step& step) {
  using plan::StepKind;
  switch (step.kind) {
    case StepKind::Preamble:
    case StepKind::UserEnvironment:
    case StepKind::RuntimeEnvironment:
      set_env_step(ctx, step);
      break;
    case StepKind::AptPackages:
      phase(ctx, "system packages", [&] { install_system_packages(ctx, step); });
      break;
    case StepKind::PipRequirements:
      phase(ctx, "python packages", [&] { install_python_packages(ctx); });
      break;
    case StepKind::SdkInstall:
      // Our runtime (C++ server, worker, SDK) instead of the cog wheel, unless a wheel is named.
      if (ctx.cog_runtime) {
        phase(ctx, "runtime", [&] { install_cog_wheels(ctx); });
      } else {
        phase(ctx, "runtime", [&] { add_runtime(ctx); });
      }
      break;
    case StepKind::RunCommand:
      phase(ctx, "run", [&] { run_command(ctx, step); });
      break;
    case StepKind::CopySource:
      phase(ctx, "source", [&] { add_source(ctx); });
      break;
    case StepKind::WeightsStage:
      break;  // no `<image>-weights` image: the weights become layers of this image directly
    case StepKind::WeightsCopy:
      phase(ctx, "weights", [&] { add_weights(ctx, step.path); });
      break;
    default:
      // Base, tini and Python come with the Debian base; WORKDIR/EXPOSE/CMD are set at commit;
      // CopyConfig is folded into the source layer.
      break;
  }
}

void add_labels(BuildContext& ctx) {
  LabelInputs inputs;
  inputs.version = COG_COMPAT_VERSION;
  inputs.config_json = config_label(ctx.plan.config, ctx.max_concurrency);
  inputs.openapi_schema = ctx.schema.openapi;
  inputs.pip_freeze = pip_freeze(ctx);
  inputs.has_init = !ctx.base.init_path.empty();
  inputs.revision = source_revision(ctx.config.project_dir);
  inputs.source_version = source_version(ctx.config.project_dir);
  auto& labels = ctx.image.config().config.labels;
  for (const auto& [name, value] : image_labels(inputs)) labels[name] = value;
  labels["run.cog.builder"] = std::string("cog-cpp ") + COG_VERSION;
  for (const auto& [name, value] : ctx.options.labels) labels[name] = value;
}

void commit(BuildContext& ctx) {
  auto& runtime = ctx.image.config().config;
  if (!runtime.get_env("PATH")) runtime.set_env("PATH", kDefaultPath);
  for (const auto& [name, value] : ctx.user_env) runtime.set_env(name, value);
  if (!ctx.cog_runtime) runtime.set_env("COG_SDK_DIR", kImageSdkDir);
  runtime.set_env("PIP_BREAK_SYSTEM_PACKAGES", "1");
  if (ctx.max_concurrency > 1) runtime.set_env("COG_MAX_CONCURRENCY", std::to_string(ctx.max_concurrency));
  runtime.entrypoint = std::nullopt;  // a base's own entrypoint is replaced, as by ours
  if (!ctx.base.init_path.empty()) runtime.entrypoint = std::vector<std::string>{ctx.base.init_path, "--"};
  runtime.cmd = ctx.cog_runtime ? std::vector<std::string>{kCogServerCommand.begin(), kCogServerCommand.end()}
                                : std::vector<std::string>{kImageServer};
  runtime.working_dir = "/src";
  // A base image's EXPOSEd ports stay, as after FROM; ours is added.
  if (std::find(runtime.exposed_ports.begin(), runtime.exposed_ports.end(), "5000/tcp") ==
      runtime.exposed_ports.end()) {
    runtime.exposed_ports.push_back("5000/tcp");
  }
  announced(ctx, "image " + ctx.result.image_name,
            [&] { ctx.result.manifest = ctx.image.commit(oci::normalize_image_name(ctx.result.image_name)); });
  for (const auto& output : ctx.options.outputs) {
    oci::save_image(ctx.store.layout(), ctx.result.manifest, oci::parse_image_reference(output));
    ctx.progress("Wrote " + output);
  }
}

}  // namespace

BuildResult build_image(const config::LoadedConfig& loaded, const BuildOptions& options, const ProgressSink& progress) {
  // Managed weights: cog.yaml and weights.lock must agree before anything is built (§1.14).
  weights::require_current_lock(loaded.config);
  BuildContext ctx(loaded, options, progress);
  ctx.result.image_name = plan::build_image_name(options.tag, ctx.config);
  progress("Building image from environment in " + options.config_file_name + " as " + ctx.result.image_name + "...");
  phase(ctx, "schema", [&] { make_schema(ctx); });
  phase(ctx, "plan", [&] { make_plan(ctx); });
  phase(ctx, "base", [&] { add_base(ctx); });
  if (ctx.cog_base) phase(ctx, "cog-base", [&] { add_cog_base_packages(ctx); });
  phase(ctx, "cuda", [&] { add_cuda_runtime(ctx); });
  for (const auto& step : ctx.plan.steps) execute(ctx, step);
  if (!options.dev) phase(ctx, "labels", [&] { add_labels(ctx); });
  phase(ctx, "commit", [&] { commit(ctx); });
  return ctx.result;
}

}  // namespace cog::builder::pipeline
