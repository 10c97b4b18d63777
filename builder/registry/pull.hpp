#pragma once
// Pulling an image from a registry into a local OCI layout (a base image for the build, or the
// local image store).
#include "builder/oci/layout.hpp"
#include "builder/registry/reference.hpp"
#include "builder/registry/transfer.hpp"

namespace cog::builder::registry {

// Fetches `ref` into `into`: from an index or manifest list, the manifest for options.platform;
// then its config and layers (those not already in `into`), in parallel, each verified against
// its digest and size while it streams. A partial download left by an earlier attempt (in
// `<layout>/.cog-partial/`) is continued with a Range request. The manifest is stored byte for
// byte; nothing is tagged. Returns the manifest's descriptor. Throws cog::Error.
oci::Descriptor pull_image(const Reference& ref, oci::Layout& into, const TransferOptions& options);

// Chooses the entry of `index_json` for `platform` (variant only compared when both have one).
// Throws cog::Error(NotFound) listing the platforms on offer.
oci::Descriptor select_platform(const std::string& index_json, const oci::Platform& platform,
                                const std::string& image);

}  // namespace cog::builder::registry
