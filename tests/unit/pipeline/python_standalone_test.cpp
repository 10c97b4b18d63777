// python-build-standalone archives: which names are taken, which archive a python_version picks,
// and what unpacking accepts. Small archives are made with tar(1); a real interpreter is built
// into an image in tests/e2e/test_python_standalone.py.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "builder/pipeline/python_standalone.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using cog::test::write_file;
using namespace cog::builder::pipeline;

namespace {

const char* const kName = "cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz";

// A tree shaped like an install_only archive of `version` (no real interpreter in it).
void make_python_tree(const fs::path& root, const std::string& version, const std::string& minor) {
  write_file(root / ("python/bin/python" + minor), "#!/bin/sh\n");
  fs::create_symlink("python" + minor, root / "python/bin/python3");
  write_file(root / "python/lib" / ("libpython" + minor + ".so.1.0"), "ELF");
  write_file(root / "python/include" / ("python" + minor) / "patchlevel.h",
             "#define PY_MINOR_VERSION 12\n#define PY_VERSION      \"" + version + "\"\n");
  write_file(root / "python/lib" / ("python" + minor) / "os.py", "");
}

// tar(1) of `what` (paths relative to `root`) into `archive`.
void tar(const fs::path& root, const fs::path& archive, const std::string& what) {
  const std::string command = "tar -C '" + root.string() + "' -czf '" + archive.string() + "' " + what;
  REQUIRE(std::system(command.c_str()) == 0);
}

std::string error_of(const std::function<void()>& work) {
  try {
    work();
  } catch (const cog::Error& error) {
    return error.describe();
  }
  return "no error";
}

}  // namespace

TEST_CASE("archives are known by python-build-standalone's names") {
  CHECK(standalone_version(kName) == "3.12.1");
  CHECK(standalone_version("cpython-3.13.0+20241016-x86_64_v3-unknown-linux-gnu-install_only_stripped.tar.gz") ==
        "3.13.0");
  CHECK(standalone_version("cpython-3.10.15+20241002-x86_64-unknown-linux-gnu-install_only.tar.zst") == "3.10.15");
  std::string why;
  CHECK_FALSE(standalone_version("cpython-3.12.1+20240107-aarch64-unknown-linux-gnu-install_only.tar.gz", &why));
  CHECK(why.find("x86_64") != std::string::npos);
  CHECK_FALSE(standalone_version("cpython-3.12.1+20240107-x86_64-unknown-linux-musl-install_only.tar.gz", &why));
  CHECK(why.find("musl") != std::string::npos);
  CHECK_FALSE(standalone_version("cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-pgo+lto-full.tar.zst", &why));
  CHECK(why.find("install_only") != std::string::npos);
  CHECK_FALSE(
      standalone_version("cpython-3.13.0+20241016-x86_64-unknown-linux-gnu-freethreaded-install_only.tar.gz", &why));
  CHECK(why.find("free-threaded") != std::string::npos);
  CHECK_FALSE(standalone_version("python-3.12.tar.gz", &why));
  CHECK(why.find("cpython-X.Y.Z") != std::string::npos);
  CHECK_FALSE(standalone_version("cpython-3.12+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz"));
  CHECK_FALSE(standalone_version("cpython-3.12.99999999999+1-x86_64-unknown-linux-gnu-install_only.tar.gz"));
}

TEST_CASE("the setting lists files, directories and URLs, unusable entries are skipped with the reason") {
  TempDir temp;
  write_file(temp.path / "dir" / kName, "");
  write_file(temp.path / "dir/cpython-3.12.7+20241016-x86_64-unknown-linux-gnu-install_only.tar.gz", "");
  write_file(temp.path / "dir/notes.txt", "");
  write_file(temp.path / "odd.tar.gz", "");
  const auto offer = standalone_archives(
      (temp.path / "dir").string() + ", " + (temp.path / "odd.tar.gz").string() + "\n" + (temp.path / "gone").string() +
      " https://example.com/r/cpython-3.11.9%2B20240726-x86_64-unknown-linux-gnu-install_only.tar.gz");
  REQUIRE(offer.archives.size() == 3);
  CHECK(offer.archives[0].version == "3.12.1");
  CHECK(offer.archives[1].version == "3.12.7");
  CHECK(offer.archives[2].version == "3.11.9");
  CHECK(offer.archives[2].file_name == "cpython-3.11.9+20240726-x86_64-unknown-linux-gnu-install_only.tar.gz");
  REQUIRE(offer.skipped.size() == 2);
  CHECK(offer.skipped[0].find("odd.tar.gz: not named like") != std::string::npos);
  CHECK(offer.skipped[1].find("gone: no such file") != std::string::npos);
  CHECK(standalone_archives("").archives.empty());
}

TEST_CASE("a major.minor takes the newest patch, a full version only itself") {
  const std::vector<StandaloneArchive> archives = {
      {"a", "a", "3.12.9"}, {"b", "b", "3.12.10"}, {"c", "c", "3.11.9"}, {"d", "d", "3.12.1"}};
  CHECK(pick_standalone(archives, "3.12")->version == "3.12.10");  // by number, not text
  CHECK(pick_standalone(archives, "3.12.1")->location == "d");
  CHECK(pick_standalone(archives, "3.11")->location == "c");
  CHECK_FALSE(pick_standalone(archives, "3.12.2"));
  CHECK_FALSE(pick_standalone(archives, "3.13"));
  CHECK_FALSE(pick_standalone(archives, "three"));
}

TEST_CASE("patchlevel.h says which Python it is") {
  CHECK(patchlevel_version("#define PY_RELEASE_SERIAL 0\n#define PY_VERSION      \"3.12.1\"\n") == "3.12.1");
  CHECK(patchlevel_version("/* nothing */").empty());
}

TEST_CASE("an install_only archive becomes /usr/local") {
  TempDir temp;
  make_python_tree(temp.path / "tree", "3.12.1", "3.12");
  tar(temp.path / "tree", temp.path / kName, "python");
  unpack_standalone(temp.path / kName, temp.path / "staging", "3.12.1");
  CHECK(fs::is_symlink(temp.path / "staging/usr/local/bin/python3"));
  CHECK(fs::exists(temp.path / "staging/usr/local/lib/libpython3.12.so.1.0"));
  CHECK(fs::exists(temp.path / "staging/usr/local/include/python3.12/patchlevel.h"));
  CHECK_FALSE(fs::exists(temp.path / "staging/.extract"));
  CHECK_FALSE(fs::exists(temp.path / "staging/python"));
}

TEST_CASE("an archive that is not what its name says, or not install_only, is refused") {
  TempDir temp;
  make_python_tree(temp.path / "tree", "3.12.1", "3.12");

  SUBCASE("another version inside") {
    tar(temp.path / "tree", temp.path / "a.tar.gz", "python");
    CHECK(error_of([&] {
            unpack_standalone(temp.path / "a.tar.gz", temp.path / "s", "3.12.9");
          }).find("says Python 3.12.9 but it holds Python 3.12.1") != std::string::npos);
  }
  SUBCASE("an entry outside python/") {
    write_file(temp.path / "tree/etc/evil", "x");
    tar(temp.path / "tree", temp.path / "a.tar.gz", "python etc");
    CHECK(error_of([&] {
            unpack_standalone(temp.path / "a.tar.gz", temp.path / "s", "3.12.1");
          }).find("\"etc\" is outside the archive's python/ directory") != std::string::npos);
  }
  SUBCASE("a release that names its libpython only libpython3.X.so is taken") {
    fs::rename(temp.path / "tree/python/lib/libpython3.12.so.1.0", temp.path / "tree/python/lib/libpython3.12.so");
    tar(temp.path / "tree", temp.path / "a.tar.gz", "python");
    unpack_standalone(temp.path / "a.tar.gz", temp.path / "s", "3.12.1");
    CHECK(fs::exists(temp.path / "s/usr/local/lib/libpython3.12.so"));
  }
  SUBCASE("no shared libpython for the worker to embed") {
    fs::remove(temp.path / "tree/python/lib/libpython3.12.so.1.0");
    tar(temp.path / "tree", temp.path / "a.tar.gz", "python");
    CHECK(error_of([&] {
            unpack_standalone(temp.path / "a.tar.gz", temp.path / "s", "3.12.1");
          }).find("python/lib/libpython3.12.so.1.0 is missing") != std::string::npos);
  }
  SUBCASE("a path climbing out of the staging directory") {
    write_file(temp.path / "outside", "x");
    const std::string command = "tar -C '" + (temp.path / "tree").string() + "' -czPf '" +
                                (temp.path / "a.tar.gz").string() + "' python/bin/../../../outside";
    REQUIRE(std::system(command.c_str()) == 0);
    CHECK(error_of([&] {
            unpack_standalone(temp.path / "a.tar.gz", temp.path / "s", "3.12.1");
          }).find("cannot be unpacked") != std::string::npos);
    CHECK_FALSE(fs::exists(temp.path / "s/outside"));
  }
  SUBCASE("not an archive at all") {
    write_file(temp.path / "a.tar.gz", "not a tar");
    CHECK(error_of([&] {
            unpack_standalone(temp.path / "a.tar.gz", temp.path / "s", "3.12.1");
          }).find("cannot be unpacked") != std::string::npos);
  }
}
