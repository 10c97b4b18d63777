#pragma once
// Counters a transfer exposes, printed with --debug; the end-to-end tests assert on them.
#include <atomic>
#include <cstdint>
#include <string>

namespace cog::builder::registry {

struct TransferStats {
  std::atomic<std::int64_t> requests{0};
  std::atomic<std::int64_t> retries{0};
  std::atomic<std::int64_t> bytes_uploaded{0};    // blob bytes sent (counted when the server took them)
  std::atomic<std::int64_t> bytes_downloaded{0};  // blob bytes received
  std::atomic<std::int64_t> blobs_uploaded{0};
  std::atomic<std::int64_t> blobs_existing{0};  // already in the registry (push) or cache (pull)
  std::atomic<std::int64_t> blobs_mounted{0};
  std::atomic<std::int64_t> blobs_downloaded{0};
  std::atomic<std::int64_t> resumed{0};  // transfers continued from a partial offset

  // `requests=12 retries=0 bytes_uploaded=... resumed=0`, stable order, one line.
  std::string summary() const;
};

}  // namespace cog::builder::registry
