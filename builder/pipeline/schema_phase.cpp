#include "builder/pipeline/schema_phase.hpp"

#include <fstream>

#include "builder/exec/debian_suites.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

void keep_schema(BuildContext& ctx) {
  ctx.result.openapi_schema = ctx.schema.openapi;
  // Cog keeps the schema in the project too, so a bind-mounted /src still has it.
  fs::create_directories(ctx.config.project_dir / ".cog");
  std::ofstream(ctx.config.project_dir / ".cog" / "openapi_schema.json") << ctx.schema.openapi;
}

}  // namespace

void make_schema(BuildContext& ctx) {
  ctx.runtime = locate_runtime();
  if (ctx.options.model_optional && ctx.config.run.empty() && ctx.config.train.empty()) return;
  if (!ctx.options.openapi_schema_file.empty()) {
    ctx.schema = read_schema_file(ctx.options.openapi_schema_file);
  } else if (ctx.options.base_image.empty() &&
             exec::major_minor(ctx.config.build.python_version) != ctx.runtime.python_version) {
    // The host's Python may not parse the model (3.12+ syntax under a 3.11 host): the image's
    // own Python generates the schema once its base is at hand, before any other layer.
    ctx.schema_in_base = true;
    return;
  } else {
    ctx.schema = generate_schema(ctx.config, ctx.runtime.sdk_dir, COG_COMPAT_VERSION);
  }
  keep_schema(ctx);
}

void make_schema_in_base(BuildContext& ctx) {
  ctx.progress("  SCHEMA with the image's Python " + ctx.base.python_version);
  ctx.schema = generate_schema_in_root(ctx.config, ctx.runtime.sdk_dir, COG_COMPAT_VERSION, ctx.python_root,
                                       ctx.work.path / "schema");
  keep_schema(ctx);
  if (!ctx.plan.config.concurrency) ctx.max_concurrency = ctx.schema.max_concurrency;
}

}  // namespace cog::builder::pipeline
