#include <doctest/doctest.h>

#include "builder/exec/debian_base.hpp"
#include "builder/exec/debian_suites.hpp"
#include "builder/exec/install_steps.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace exec_test;

TEST_CASE("debian suites: each offered Python maps to its suite, patch levels included") {
  CHECK(suite_for_python("3.11").name == "bookworm");
  CHECK(suite_for_python("3.11.2").name == "bookworm");
  CHECK(suite_for_python("3.13").name == "trixie");
  CHECK(major_minor("3.12.1") == "3.12");
  CHECK(major_minor("3") == "");
  CHECK(major_minor("3.x") == "");
}

TEST_CASE("debian suites: other versions fail and name what is on offer") {
  for (const char* version : {"3.12", "3.10", "3.8.10", "2.7", "banana"}) {
    CAPTURE(version);
    try {
      suite_for_python(version);
      FAIL("no error");
    } catch (const cog::Error& error) {
      CHECK(error.kind() == cog::ErrorKind::Compatibility);
      CHECK(error.describe().find(std::string("Python ") + version + " is not available") != std::string::npos);
      CHECK(error.describe().find("3.11 (Debian bookworm), 3.13 (Debian trixie)") != std::string::npos);
    }
  }
}

TEST_CASE("debian mirrors: deb822 and one-line sources, security kept apart") {
  TempDir dir;
  write_file(dir.path() / "sources.list.d/debian.sources",
             "Types: deb\n# comment\nURIs: http://mirror.example/debian/\nSuites: bookworm "
             "bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: "
             "http://security.example/debian-security\nSuites: bookworm-security\n");
  auto mirrors = mirrors_from_apt_sources(dir.path());
  CHECK(mirrors.archive == "http://mirror.example/debian");
  CHECK(mirrors.security == "http://security.example/debian-security");

  TempDir legacy;
  write_file(legacy.path() / "sources.list",
             "# deb http://ignored/ bookworm main\n"
             "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n");
  CHECK(mirrors_from_apt_sources(legacy.path()).archive == "http://one.example/debian");

  TempDir empty;
  CHECK(mirrors_from_apt_sources(empty.path()).archive == "http://deb.debian.org/debian");
}

TEST_CASE("debian base: the cache key follows every input that changes the content") {
  BaseRequest request;
  request.python_version = "3.11";
  request.mirrors = {};
  const auto suite = suite_for_python("3.11");
  const auto key = base_key(request, suite);
  CHECK(key.size() == 64);
  auto changed = request;
  changed.extra_packages = {"jq"};
  CHECK(base_key(changed, suite) != key);
  changed = request;
  changed.mirrors.archive = "http://other.example/debian";
  CHECK(base_key(changed, suite) != key);
  CHECK(base_key(request, suite_for_python("3.13")) != key);
  changed = request;
  changed.extra_packages = {"tini", "libpython3.11"};  // already in the fixed set
  CHECK(base_key(changed, suite) == key);
  CHECK(base_packages(request, suite) ==
        std::vector<std::string>{"ca-certificates", "libpython3.11", "python3", "python3-pip", "python3-venv", "tini"});
}

TEST_CASE("debian base: without Python (an archive brings it), no Python package and another key") {
  BaseRequest request;
  request.python_version = "3.12";  // no suite offers it: ignored without Python
  request.with_python = false;
  request.mirrors = {};
  const auto suite = python_suites().front();
  CHECK(base_packages(request, suite) == std::vector<std::string>{"ca-certificates", "tini"});
  BaseRequest with_python = request;
  with_python.with_python = true;
  with_python.python_version = "3.11";
  CHECK(base_key(request, suite) != base_key(with_python, suite));
  CHECK(debian_python_offers() == "3.11 (Debian bookworm), 3.13 (Debian trixie)");
}

TEST_CASE("debian base: the scrub removes what differs between two bootstraps") {
  TempDir dir;
  const fs::path root = dir.path();
  write_file(root / "var/lib/apt/lists/deb.debian.org_Packages", "x");
  fs::create_directories(root / "var/lib/apt/lists/partial");
  write_file(root / "var/cache/apt/archives/jq.deb", "x");
  write_file(root / "var/cache/apt/pkgcache.bin", "x");
  write_file(root / "var/log/apt/history.log", "installed at noon");
  write_file(root / "var/cache/ldconfig/aux-cache", "x");
  write_file(root / "var/cache/debconf/config.dat-old", "x");
  write_file(root / "etc/machine-id", "abc");
  write_file(root / "etc/hostname", "builder-42");
  write_file(root / "etc/resolv.conf", "nameserver 10.0.0.1");
  write_file(root / "etc/shadow", "root:*:20780:0:99999:7:::\n_apt:*:20780:0:99999:7:::\n");
  write_file(root / "dev/null", "");
  write_file(root / "usr/bin/tini", "");
  fs::create_directories(root / "usr/sbin");
  fs::create_directories(root / "etc/apt");
  make_rootfs_reproducible(root, suite_for_python("3.11"),
                           {"http://deb.example/debian", "http://sec.example/debian-security"});
  CHECK(fs::is_empty(root / "var/lib/apt/lists/partial"));
  CHECK_FALSE(fs::exists(root / "var/lib/apt/lists/deb.debian.org_Packages"));
  CHECK_FALSE(fs::exists(root / "var/cache/apt/archives/jq.deb"));
  CHECK_FALSE(fs::exists(root / "var/cache/apt/pkgcache.bin"));
  CHECK(fs::file_size(root / "var/log/apt/history.log") == 0);
  for (const char* gone : {"var/cache/ldconfig/aux-cache", "var/cache/debconf/config.dat-old", "etc/machine-id",
                           "etc/hostname", "etc/resolv.conf", "dev/null"})
    CHECK_FALSE(fs::exists(root / gone));
  CHECK(read_file(root / "etc/shadow") == "root:*::0:99999:7:::\n_apt:*::0:99999:7:::\n");
  CHECK(read_file(root / "etc/apt/sources.list") ==
        "deb http://deb.example/debian bookworm main\n"
        "deb http://deb.example/debian bookworm-updates main\n"
        "deb http://sec.example/debian-security bookworm-security main\n");
  CHECK(fs::read_symlink(root / "usr/sbin/tini") == "../bin/tini");
}

TEST_CASE("install steps: package names are passed as arguments, odd ones refused") {
  TempDir dir;
  StepCaches caches{dir.path()};
  auto step = apt_install_step({"jq", "libgl1", "python3-numpy=1:1.24.2-1"}, caches, "bookworm", "amd64", 0);
  CHECK(step.argv.back() == "python3-numpy=1:1.24.2-1");
  CHECK(step.binds.size() == 2);
  CHECK(fs::is_directory(caches.apt_cache("bookworm", "amd64")));
  CHECK_THROWS_AS(apt_install_step({"jq; rm -rf /"}, caches, "bookworm", "amd64", 0), cog::Error);
  CHECK_THROWS_AS(apt_install_step({"-o"}, caches, "bookworm", "amd64", 0), cog::Error);
  CHECK_THROWS_AS(pip_install_step(dir.path() / "missing.txt", caches, 0), cog::Error);
}
