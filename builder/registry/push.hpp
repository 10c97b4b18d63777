#pragma once
// Pushing an image from a local OCI layout (the image store, usually) to a registry.
#include <string>

#include "builder/oci/layout.hpp"
#include "builder/registry/reference.hpp"
#include "builder/registry/transfer.hpp"

namespace cog::builder::registry {

struct PushResult {
  std::string reference;  // where it went: `registry/repository:tag`
  oci::Digest digest;     // of the manifest (or index) the tag now points to
};

// Pushes `manifest` (an image manifest, or an index and every manifest in it) and the blobs it
// references from `layout` to `target`. Blobs the registry has are skipped, blobs known to be in
// another repository of the same registry are mounted, the rest uploaded (chunked above the
// threshold, resuming or restarting after dropped connections). Throws cog::Error.
PushResult push_image(const oci::Layout& layout, const oci::Descriptor& manifest, const Reference& target,
                      const TransferOptions& options);

// The same for `source` in skopeo's syntax: a name in the local image store, `oci:DIR[:TAG]`,
// or `docker-archive:FILE` (imported into the store first).
PushResult push_image(const std::string& source, const Reference& target, const TransferOptions& options);

}  // namespace cog::builder::registry
