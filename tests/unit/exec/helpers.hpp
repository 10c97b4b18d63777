#pragma once
// Shared by the exec tests: temporary directories, a tiny root made of the host's /usr, and a
// recorder for output lines.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "builder/exec/sandbox.hpp"
#include "skip.hpp"

namespace exec_test {
namespace fs = std::filesystem;
using namespace cog::builder::exec;

// A fresh directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("cog-exec-test-" + std::to_string(getpid()) + "-" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

inline std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string mountinfo() { return read_file("/proc/self/mountinfo"); }

// A root whose programs come from the host's /usr (bound read-only), with a few files of its own.
struct HostRoot {
  fs::path lower;
  BindMount usr{"/usr", "/usr", true};

  explicit HostRoot(const fs::path& dir) : lower(dir / "lower") {
    fs::create_directories(lower);
    for (const char* link : {"bin", "lib", "lib64", "sbin"})
      fs::create_directory_symlink(std::string("usr/") + link, lower / link);
    for (const char* sub : {"usr", "root", "tmp", "etc/app/data", "var/cache"}) fs::create_directories(lower / sub);
    write_file(lower / "etc/keep.txt", "keep\n");
    write_file(lower / "etc/gone.txt", "gone\n");
    write_file(lower / "etc/gone-too.txt", "gone\n");
    write_file(lower / "etc/app/data/old.txt", "old\n");
  }

  StepSpec step(std::vector<std::string> argv) const {
    StepSpec spec;
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/sbin:/usr/bin", "HOME=/root", "LC_ALL=C"};
    spec.binds.push_back(usr);
    return spec;
  }
  StepSpec shell(const std::string& script) const { return step({"/bin/sh", "-c", script}); }
};

struct Lines {
  std::mutex mutex;
  std::vector<std::string> out, err;
  LineSink sink() {
    return [this](Stream stream, std::string_view line) {
      std::lock_guard lock(mutex);
      (stream == Stream::Stdout ? out : err).emplace_back(line);
    };
  }
  std::string all_out() const {
    std::string text;
    for (const auto& line : out) text += line + "\n";
    return text;
  }
};

// Every path under `upper`, relative, sorted.
inline std::vector<std::string> entries(const fs::path& upper) {
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(upper))
    names.push_back(entry.path().lexically_relative(upper).string());
  std::sort(names.begin(), names.end());
  return names;
}

inline bool is_whiteout(const fs::path& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0 && S_ISCHR(info.st_mode) && info.st_rdev == 0;
}

}  // namespace exec_test

// Sandboxed steps need root (namespaces, overlayfs with trusted xattrs): elsewhere a case is
// reported as skipped instead of failing on a machine that cannot run it at all.
#define EXEC_TEST_NEEDS_ROOT()                                                     \
  do {                                                                             \
    if (geteuid() != 0) COG_SKIP("build steps need root (namespaces, overlayfs)"); \
  } while (0)
