#pragma once
// Small file helpers shared inside builder/oci (not part of its public API).
#include <filesystem>
#include <string>
#include <string_view>

namespace cog::builder::oci::files {

std::string read(const std::filesystem::path& file);  // throws cog::Error(Io/NotFound)
// Writes to a temporary file beside `file`, fsyncs, renames over it.
void write_atomic(const std::filesystem::path& file, std::string_view data);
// A name unlikely to clash between processes and threads: "<prefix><pid>-<random hex>".
std::string unique_name(std::string_view prefix);

// An exclusive flock on a file, released when the object dies.
class Lock {
 public:
  explicit Lock(const std::filesystem::path& lock_file);
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace cog::builder::oci::files
