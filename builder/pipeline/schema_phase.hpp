#pragma once
// The schema phase: the model's OpenAPI schema, from --openapi-schema, the host's Python, or,
// when that may not parse the model, the image's own Python once the base is at hand.
#include "builder/pipeline/context.hpp"

namespace cog::builder::pipeline {

// Locates the runtime (server, worker, SDK) and makes the schema, or leaves schema_in_base set
// for make_schema_in_base to do it inside the base.
void make_schema(BuildContext& ctx);

// The schema by the base's Python (python_root), before any layer above the base.
void make_schema_in_base(BuildContext& ctx);

}  // namespace cog::builder::pipeline
