// stage_runtime with a worker compiled in another root: its libraries come from that root, not
// from this machine, unless this machine's file is newer. Host binaries stand in for server and
// worker (ldd resolves them here).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "builder/pipeline/runtime_files.hpp"
#include "support/error.hpp"
#include "support/subprocess.hpp"
#include "tests/unit/temp_dir.hpp"
#include "skip.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using namespace cog::builder::pipeline;

namespace {

fs::path write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
  return file;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("a newer library is one whose real file name has a higher version") {
  TempDir dir;
  const auto older = write(dir.path / "libstdc++.so.6.0.30", "old");
  const auto newer = write(dir.path / "libstdc++.so.6.0.33", "new");
  fs::create_symlink("libstdc++.so.6.0.33", dir.path / "libstdc++.so.6");
  CHECK(newer_library(newer, older));
  CHECK_FALSE(newer_library(older, newer));
  CHECK(newer_library(dir.path / "libstdc++.so.6", older));  // symlinks are followed
  CHECK_FALSE(newer_library(older, older));
}

TEST_CASE("a compiled worker's libraries come from its root, the newer file wins") {
  const fs::path host_pcre = "/lib/x86_64-linux-gnu/libpcre2-8.so.0";
  if (!fs::exists("/bin/ls") || !fs::exists("/bin/true") || !fs::exists(host_pcre))
    COG_SKIP("needs Debian amd64's /bin/ls, /bin/true and libpcre2-8");
  TempDir dir;
  RuntimeFiles runtime;
  runtime.server_binary = "/bin/ls";  // needs libselinux.so.1 and libpcre2-8.so.0 from this machine
  runtime.worker_binary = "/bin/true";
  runtime.sdk_dir = fs::path(COG_SOURCE_DIR) / "runtime" / "python";
  runtime.python_version = "3.13";
  const fs::path root = dir.path / "worker-root";
  runtime.worker_libraries = {
      {"libselinux.so.1", write(root / "libselinux.so.1", "from the image's root")},      // a tie
      {"libpcre2-8.so.0", write(root / "libpcre2-8.so.0.0.1", "older than the host's")},  // host wins
      {"libstdc++.so.6", write(root / "libstdc++.so.6.0.33", "only the worker needs it")},
      {"libpython3.13.so.1.0", write(root / "libpython3.13.so.1.0", "the image has it")},
  };
  const fs::path staging = dir.path / "staging";
  stage_runtime(runtime, staging);
  const fs::path lib = staging / "opt/cog/lib";
  CHECK(read(lib / "libselinux.so.1") == "from the image's root");
  CHECK(read(lib / "libstdc++.so.6") == "only the worker needs it");
  CHECK(read(lib / "libpcre2-8.so.0") != "older than the host's");
  CHECK(fs::file_size(lib / "libpcre2-8.so.0") == fs::file_size(fs::canonical(host_pcre)));
  CHECK_FALSE(fs::exists(lib / "libpython3.13.so.1.0"));
  CHECK_FALSE(fs::exists(lib / "libc.so.6"));
  CHECK(fs::exists(staging / "opt/cog/bin/cog-worker"));
  CHECK(fs::exists(staging / "usr/local/lib/python3.13/site-packages/cog-runtime.pth"));
}

TEST_CASE("a library the image has in the same or a newer version is not shipped") {
  if (!fs::exists("/bin/true")) COG_SKIP("needs /bin/true");
  TempDir dir;
  RuntimeFiles runtime;
  runtime.server_binary = "/bin/true";
  runtime.worker_binary = "/bin/true";
  runtime.sdk_dir = fs::path(COG_SOURCE_DIR) / "runtime" / "python";
  runtime.python_version = "3.13";
  const fs::path root = dir.path / "worker-root";
  runtime.worker_libraries = {
      {"libcrypto.so.3", write(root / "libcrypto.so.3", "ours")},              // the image has one too
      {"libstdc++.so.6", write(root / "libstdc++.so.6.0.33", "ours, newer")},  // the image's is older
      {"libbrotlidec.so.1", write(root / "libbrotlidec.so.1.0.9", "only ours")},
  };
  const std::map<std::string, std::string> in_image = {{"libcrypto.so.3", "libcrypto.so.3"},
                                                       {"libstdc++.so.6", "libstdc++.so.6.0.30"}};
  const fs::path staging = dir.path / "staging";
  stage_runtime(runtime, staging, "/usr/bin/python3", [&](const std::string& soname) -> std::optional<std::string> {
    const auto found = in_image.find(soname);
    if (found == in_image.end()) return std::nullopt;
    return found->second;
  });
  const fs::path lib = staging / "opt/cog/lib";
  CHECK_FALSE(fs::exists(lib / "libcrypto.so.3"));  // trixie's OpenSSL 3.5 must not be shadowed
  CHECK(read(lib / "libstdc++.so.6") == "ours, newer");
  CHECK(read(lib / "libbrotlidec.so.1") == "only ours");
}

TEST_CASE("needed_libraries reads an executable's DT_NEEDED entries as ldd lists them") {
  const auto needed = needed_libraries("/bin/sh");
  CHECK(std::find(needed.begin(), needed.end(), "libc.so.6") != needed.end());
  // What readelf says, in the same order.
  const auto readelf = cog::support::run_captured(
      {"/bin/sh", "-c", "readelf -d /bin/ls | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p'"});
  std::vector<std::string> expected;
  std::istringstream lines(readelf.stdout_text);
  for (std::string line; std::getline(lines, line);) expected.push_back(line);
  REQUIRE_FALSE(expected.empty());
  CHECK(needed_libraries("/bin/ls") == expected);
  TempDir temp;
  write(temp.path / "not-elf", "#!/bin/sh\n");
  CHECK_THROWS_AS(needed_libraries(temp.path / "not-elf"), cog::Error);
}
