#pragma once
// What a push or a pull is told: how to reach the registry, how much to do at once, where to
// report progress, and where to count what happened.
#include <cstdint>
#include <optional>
#include <ostream>

#include "builder/oci/descriptor.hpp"
#include "builder/registry/client.hpp"
#include "builder/registry/stats.hpp"

namespace cog::builder::registry {

struct TransferOptions {
  ClientOptions client;                            // TLS, --insecure, retries, where credentials come from
  int concurrency = 5;                             // blobs in flight at once (COG_PUSH_CONCURRENCY)
  std::int64_t chunk_size = 96LL << 20;            // PATCH size (COG_PUSH_DEFAULT_CHUNK_SIZE)
  std::int64_t multipart_threshold = 128LL << 20;  // chunked above this (COG_PUSH_MULTIPART_THRESHOLD)
  oci::Platform platform;                          // what a pull picks from an index
  std::ostream* progress = nullptr;                // null = silent
  bool live_progress = false;                      // redraw in place (a terminal)
  TransferStats* stats = nullptr;                  // null = not collected
};

// Defaults, then COG_PUSH_CONCURRENCY / COG_PUSH_DEFAULT_CHUNK_SIZE / COG_PUSH_MULTIPART_THRESHOLD,
// COG_REGISTRY_CA_BUNDLE, and credentials from the docker config. Throws on malformed values.
TransferOptions transfer_options_from_environment();

// `linux/amd64`, `linux/arm64/v8`. Throws cog::Error(Usage).
oci::Platform parse_platform(const std::string& text);

}  // namespace cog::builder::registry
