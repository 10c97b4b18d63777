#pragma once
// Which repositories of which registries a blob is known to be in, so that a push to another
// repository of the same registry can mount it (`?mount=&from=`) instead of uploading it.
// Kept beside an OCI layout, in `<root>/.cog-origins/<algorithm>/<hex>`, one `registry/repository`
// per line; appends are single short writes, so concurrent processes do not corrupt it.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/oci/digest.hpp"

namespace cog::builder::registry {

class BlobOrigins {
 public:
  explicit BlobOrigins(std::filesystem::path layout_root);

  // Repositories of `registry` known to hold `digest`, most recent first.
  std::vector<std::string> repositories(const oci::Digest& digest, const std::string& registry) const;
  // Records that `registry/repository` holds `digest` (best effort: failures are ignored).
  void remember(const oci::Digest& digest, const std::string& registry, const std::string& repository) const;

 private:
  std::filesystem::path file_for(const oci::Digest& digest) const;
  std::filesystem::path root_;
};

}  // namespace cog::builder::registry
