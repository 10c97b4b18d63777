#include "builder/registry/origins.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace cog::builder::registry {

BlobOrigins::BlobOrigins(std::filesystem::path layout_root) : root_(std::move(layout_root) / ".cog-origins") {}

std::filesystem::path BlobOrigins::file_for(const oci::Digest& digest) const {
  return root_ / digest.algorithm / digest.hex;
}

std::vector<std::string> BlobOrigins::repositories(const oci::Digest& digest, const std::string& registry) const {
  std::vector<std::string> found;
  std::ifstream in(file_for(digest));
  std::string prefix = registry + "/";
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(prefix)) continue;
    std::string repository = line.substr(prefix.size());
    found.erase(std::remove(found.begin(), found.end(), repository), found.end());
    found.insert(found.begin(), repository);
  }
  return found;
}

void BlobOrigins::remember(const oci::Digest& digest, const std::string& registry,
                           const std::string& repository) const {
  std::error_code ignored;
  auto file = file_for(digest);
  std::filesystem::create_directories(file.parent_path(), ignored);
  for (const auto& known : repositories(digest, registry))
    if (known == repository) return;
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string line = registry + "/" + repository + "\n";
  ssize_t written = write(fd, line.data(), line.size());
  (void)written;
  close(fd);
}

}  // namespace cog::builder::registry
