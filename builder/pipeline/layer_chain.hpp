#pragma once
// The layer chain: each layer's cache key is the key of the one below it plus what goes into it,
// so a change anywhere rebuilds that layer and everything above it, and nothing below.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/pipeline/context.hpp"
#include "builder/exec/sandbox.hpp"
#include "builder/oci/tar_writer.hpp"

namespace cog::builder::pipeline {

// sha256 hex of `text`.
std::string hash_text(const std::string& text);

// The first key of the chain: the base, and the timestamp every layer's mtimes are clamped to, so
// that no layer made at one --timestamp is reused at another. Epoch 0 (the default) adds nothing,
// which keeps the keys of default builds as they were.
std::string first_key(const BuildContext& ctx, const std::string& description, const std::string& base);

// The key of the next layer: everything before it, and what goes into it.
std::string next_key(const BuildContext& ctx, const std::string& description, const std::vector<std::string>& inputs);

// A cache hit needs both the layer blob and its unpacked directory (the lower of later steps).
// On a hit the layer joins the image and the chain; always false under --no-cache.
bool reuse(BuildContext& ctx, const std::string& key, const std::string& description);

// A layer just built: cached under `key`, `upper` kept as its unpacked directory, the chain moved on.
void keep_layer(BuildContext& ctx, const std::string& key, const oci::StoredLayer& layer,
                const std::filesystem::path& upper);

// Every layer's mtimes clamped to --timestamp; owners kept (steps may chown).
oci::LayerOptions layer_options(const BuildContext& ctx);

// Runs `spec` in the sandbox over the chain's layers and keeps what it wrote as the next layer,
// unless a layer with the same key is cached. Throws cog::Error(Runtime) when the step fails.
void sandbox_layer(BuildContext& ctx, const std::string& description, const exec::StepSpec& spec,
                   const std::vector<std::string>& inputs);

// Layers too large to remake per image store (cog-base's packages: ~2 GB unpacked) are also kept
// outside any store, under <cache>/shared-layers/<key>: share_layer records the one just cached
// under `key`, adopt_shared_layer brings it into this build's store (a hard link where it can)
// so that the next sandbox_layer or reuse finds it. adopt is a no-op when there is nothing to adopt.
void share_layer(BuildContext& ctx, const std::string& key);
void adopt_shared_layer(BuildContext& ctx, const std::string& key);

}  // namespace cog::builder::pipeline
