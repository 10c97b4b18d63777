#pragma once
// Exposes Host to Python as the module `_cogworker` (the driver's `host` argument).
namespace cog::runtime::worker {
// Nothing to call: including this header's .cpp registers the embedded module.
void link_bindings();
}  // namespace cog::runtime::worker
