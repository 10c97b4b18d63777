#pragma once
// What `cog push` and `cog build --push` share: sending an image from the local image store to a
// registry, with the same options, progress and messages.
#include <string>

#include "builder/config/config.hpp"
#include "builder/registry/push.hpp"
#include "builder/registry/reference.hpp"

namespace cog::cli {

struct PushSettings {
  std::string progress = "auto";  // auto | tty | plain | quiet
  bool insecure = false;          // plain HTTP and unverified TLS allowed
  std::string ca_bundle;          // empty = $COG_REGISTRY_CA_BUNDLE, else the system's CAs
  bool debug = false;             // print the transfer counters at the end
};

// Pushes `stored_name` (else `target` itself) from the local image store to `target`, printing
// `Pushing to <ref>...`, the transfer progress and `Pushed <ref>@<digest>`. Throws cog::Error.
builder::registry::PushResult push_stored_image(const std::string& stored_name,
                                                const builder::registry::Reference& target,
                                                const PushSettings& settings);

// Managed weights (docs/weights.md): when cog.yaml has weights, replaces `target`'s tag with an
// index of the pushed image and the weights' artifacts, and prints the tree. Else nothing.
void push_weights_index_if_any(const builder::config::Config& config, const builder::registry::Reference& target,
                               const builder::registry::PushResult& pushed, const PushSettings& settings);

// The same for an image read from an OCI layout directory or archive (`cog push --from`).
void push_from(const std::string& from, const builder::registry::Reference& target, const PushSettings& settings);

}  // namespace cog::cli
