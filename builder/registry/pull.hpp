#pragma once
// Pulling an image from a registry into a local OCI layout (a base image for the build, or the
// local image store).
#include <string>

#include "builder/oci/layout.hpp"
#include "builder/oci/store.hpp"
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
oci::Descriptor select_platform(const std::string& index_json, const oci::Platform& platform, const std::string& image);

// `cog pull NAME`: pull_image into the local image store, tagged `name` as typed. Prints
// "Pulling REF..." and "Digest: sha256:..." to options.progress (where set).
oci::Descriptor pull_into_store(const std::string& name, oci::ImageStore& store, const TransferOptions& options);

// True when `name` says which registry it lives in (`host.tld/…`, `host:port/…`, `localhost/…`):
// names `cog build -t` gives without one (`my-model`) are local, and never looked up on Docker Hub.
bool names_a_registry(const std::string& name);

// `name` as `cog run/predict/train IMAGE` needs it: from the store, else pulled into it first (as
// Cog pulls an image it does not have) when it names a registry. Otherwise the store's own
// "no such image" error. Returns the manifest's descriptor.
oci::Descriptor find_or_pull(const std::string& name, oci::ImageStore& store, const TransferOptions& options);

}  // namespace cog::builder::registry
