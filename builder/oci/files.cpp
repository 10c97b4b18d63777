#include "builder/oci/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "support/error.hpp"

namespace cog::builder::oci::files {

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    auto kind = std::filesystem::exists(file) ? ErrorKind::Io : ErrorKind::NotFound;
    throw Error(kind, file.string(), "cannot read file");
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string unique_name(std::string_view prefix) {
  std::random_device random;
  std::ostringstream name;
  name << prefix << ::getpid() << '-' << std::hex << random() << random();
  return name.str();
}

void write_atomic(const std::filesystem::path& file, std::string_view data) {
  auto temporary = file.parent_path() / unique_name("." + file.filename().string() + ".tmp-");
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorKind::Io, temporary.string(), std::strerror(errno));
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      throw Error(ErrorKind::Io, file.string(), std::strerror(error), "check free disk space");
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    throw Error(ErrorKind::Io, file.string(), std::strerror(error));
  }
}

Lock::Lock(const std::filesystem::path& lock_file) {
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(ErrorKind::Io, lock_file.string(), std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int error = errno;
      ::close(fd_);
      throw Error(ErrorKind::Io, lock_file.string(), std::strerror(error));
    }
  }
}

Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace cog::builder::oci::files
