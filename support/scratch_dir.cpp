#include "support/scratch_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::support {

fs::path make_unique_dir(const fs::path& parent, const std::string& prefix) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  if (ec || !mkdtemp(pattern.data())) {
    const std::string reason = ec ? ec.message() : std::strerror(errno);
    throw Error(ErrorKind::Io, parent.string(), "could not create a directory: " + reason,
                "check free space and permissions");
  }
  return pattern;
}

ScratchDir::ScratchDir(const fs::path& parent, const std::string& prefix) : path(make_unique_dir(parent, prefix)) {}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

}  // namespace cog::support
