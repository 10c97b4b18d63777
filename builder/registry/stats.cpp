#include "builder/registry/stats.hpp"

namespace cog::builder::registry {

std::string TransferStats::summary() const {
  auto field = [](const char* name, const std::atomic<std::int64_t>& value) {
    return std::string(name) + "=" + std::to_string(value.load());
  };
  return field("requests", requests) + " " + field("retries", retries) + " " + field("bytes_uploaded", bytes_uploaded) +
         " " + field("bytes_downloaded", bytes_downloaded) + " " + field("blobs_uploaded", blobs_uploaded) + " " +
         field("blobs_existing", blobs_existing) + " " + field("blobs_mounted", blobs_mounted) + " " +
         field("blobs_downloaded", blobs_downloaded) + " " + field("resumed", resumed);
}

}  // namespace cog::builder::registry
