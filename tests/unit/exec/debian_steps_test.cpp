// Build steps over a real Debian base. The base is debootstrapped once into the shared cache
// (${XDG_CACHE_HOME:-~/.cache}/cog/bases) and reused by every case and every later run; the
// cases pass with a message when the Debian mirror cannot be reached.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "builder/exec/debian_base.hpp"
#include "builder/exec/install_steps.hpp"
#include "builder/exec/sandbox.hpp"
#include "builder/oci/overlay_layer.hpp"
#include "support/error.hpp"
#include "helpers.hpp"
#include "skip.hpp"

using namespace exec_test;
namespace oci = cog::builder::oci;

namespace {

constexpr std::int64_t epoch = 1700000000;

BaseRequest bookworm_request() {
  BaseRequest request;
  request.python_version = "3.11";
  return request;
}

bool mirror_reachable(const std::string& archive) {
  const std::string probe = "curl -sf -m 15 -o /dev/null '" + archive + "/dists/bookworm/InRelease'";
  int code = std::system(probe.c_str());
  return code == 0 || (WIFEXITED(code) && WEXITSTATUS(code) == 127);  // no curl: just try
}

// The shared base, or nothing (after saying why) when the mirror is out of reach.
std::optional<DebianBase> bookworm_base() {
  if (geteuid() != 0) {
    cog::testing::skip_test_case("build steps need root (namespaces, overlayfs, debootstrap)");
    return std::nullopt;
  }
  const auto request = bookworm_request();
  if (!mirror_reachable(request.mirrors.archive)) {
    cog::testing::skip_test_case("the Debian mirror " + request.mirrors.archive + " is unreachable");
    return std::nullopt;
  }
  auto base =
      ensure_debian_base(request, [](Stream, std::string_view line) { std::cerr << "[debootstrap] " << line << "\n"; });
  if (base.built) MESSAGE("debootstrapped bookworm in " << base.elapsed.count() << " ms");
  return base;
}

struct Steps {
  TempDir dir;
  Lines lines;
  std::string mounts_before = mountinfo();

  ExitStatus run(const DebianBase& base, const StepSpec& step, const std::string& upper,
                 std::vector<fs::path> more_layers = {}) {
    Rootfs rootfs{{base.rootfs}, dir.path() / upper};
    rootfs.lowers.insert(rootfs.lowers.end(), more_layers.begin(), more_layers.end());
    lines.out.clear();
    lines.err.clear();
    auto status = run_step(rootfs, step, lines.sink());
    if (!status.ok())
      for (const auto& line : lines.err) MESSAGE(line);
    return status;
  }
  StepSpec shell(const std::string& script) const {
    StepSpec step;
    step.argv = {"/bin/sh", "-c", script};
    step.env = default_step_env(epoch);
    return step;
  }
  std::string diff_id(const std::string& upper) {
    oci::LayerOptions options;
    options.source_date_epoch = epoch;
    options.preserve_owner = true;
    return oci::write_layer_from_overlay(dir.path() / upper, dir.path() / (upper + ".tar.gz"), options).diff_id.str();
  }
  fs::path upper(const std::string& name) const { return dir.path() / name; }
};

}  // namespace

TEST_CASE_FIXTURE(Steps, "debian base: python3 runs in the sandbox and writes nothing") {
  auto base = bookworm_base();
  if (!base) return;
  CHECK(base->suite == "bookworm");
  CHECK(base->python_version.starts_with("3.11."));
  CHECK(fs::is_symlink(base->rootfs / "usr/sbin/tini"));
  CHECK(fs::exists(base->rootfs / "usr/bin/tini"));
  CHECK(fs::exists(base->rootfs / "usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"));
  CHECK(fs::is_empty(base->rootfs / "dev"));
  CHECK_FALSE(fs::exists(base->rootfs / "etc/machine-id"));
  auto step = shell("python3 -c 'print(1)'");
  REQUIRE(run(*base, step, "upper").ok());
  CHECK(lines.out == std::vector<std::string>{"1"});
  CHECK(entries(upper("upper")).empty());
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Steps, "debian base: a patch level other than the packaged one is refused") {
  auto base = bookworm_base();
  if (!base) return;
  auto request = bookworm_request();
  request.python_version = "3.11.0";
  CHECK_THROWS_WITH_AS(ensure_debian_base(request, {}),
                       doctest::Contains("Python 3.11.0 is not available: Debian bookworm packages "), cog::Error);
  request.python_version = base->python_version;
  CHECK(ensure_debian_base(request, {}).rootfs == base->rootfs);
}

TEST_CASE_FIXTURE(Steps, "debian base: apt-get install leaves only the package, the same way twice") {
  auto base = bookworm_base();
  if (!base) return;
  const StepCaches caches = default_step_caches();
  auto step = apt_install_step({"jq"}, caches, base->suite, "amd64", epoch);
  REQUIRE(run(*base, step, "apt").ok());
  auto names = entries(upper("apt"));
  if (std::getenv("COG_EXEC_TEST_DUMP")) {  // for looking at a layer by hand
    for (const auto& name : names) MESSAGE(name);
    for (const auto& line : lines.err) MESSAGE("stderr: " << line);
  }
  CHECK(std::find(names.begin(), names.end(), "usr/bin/jq") != names.end());
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK(!name.starts_with("var/lib/apt/lists/"));
    CHECK(!name.starts_with("var/cache/apt/"));
    CHECK(!name.starts_with("tmp/"));
    CHECK(name != "etc/resolv.conf");
    CHECK(name != "var/cache/ldconfig/aux-cache");
  }
  REQUIRE(run(*base, step, "apt2").ok());
  CHECK(diff_id("apt") == diff_id("apt2"));
  REQUIRE(run(*base, shell("echo '{\"a\":7}' | jq .a"), "use", {upper("apt")}).ok());
  CHECK(lines.out == std::vector<std::string>{"7"});
  CHECK(mountinfo() == mounts_before);
}

TEST_CASE_FIXTURE(Steps, "debian base: pip install from PyPI gives the same layer twice") {
  auto base = bookworm_base();
  if (!base) return;
  write_file(dir.path() / "requirements.txt", "six==1.16.0\n");
  const StepCaches caches = default_step_caches();
  auto step = pip_install_step(dir.path() / "requirements.txt", caches, epoch);
  trust_host_certificates(step, host_ca_bundle());
  REQUIRE(run(*base, step, "pip1").ok());
  REQUIRE(run(*base, step, "pip2").ok());
  auto names = entries(upper("pip1"));
  CHECK(std::find(names.begin(), names.end(), "usr/local/lib/python3.11/dist-packages/six.py") != names.end());
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK((name == "usr" || name.starts_with("usr/local")));  // no cache, /tmp or /root
  }
  CHECK(diff_id("pip1") == diff_id("pip2"));
  REQUIRE(run(*base, shell("python3 -c 'import six; print(six.__version__)'"), "use", {upper("pip1")}).ok());
  CHECK(lines.out == std::vector<std::string>{"1.16.0"});
}

TEST_CASE_FIXTURE(Steps, "debian base: deleting a base file leaves an overlay whiteout") {
  auto base = bookworm_base();
  if (!base) return;
  REQUIRE(run(*base, shell("rm /etc/debian_version"), "rm").ok());
  CHECK(entries(upper("rm")) == std::vector<std::string>{"etc", "etc/debian_version"});
  CHECK(is_whiteout(upper("rm") / "etc/debian_version"));
  CHECK(fs::exists(base->rootfs / "etc/debian_version"));
}

TEST_CASE_FIXTURE(Steps, "debian base: a secret is readable in its step only, never in the layer") {
  auto base = bookworm_base();
  if (!base) return;
  write_file(dir.path() / "token", "s3cret\n");
  auto step = shell("cat secret.txt; python3 -c 'print(open(\"/src/secret.txt\").read().strip())'");
  step.workdir = "/src";
  fs::create_directories(dir.path() / "src-layer/src");
  step.secrets.push_back({dir.path() / "token", "secret.txt"});
  REQUIRE(run(*base, step, "secret", {dir.path() / "src-layer"}).ok());
  CHECK(lines.out == std::vector<std::string>{"s3cret", "s3cret"});
  CHECK(entries(upper("secret")).empty());
  REQUIRE(run(*base, shell("test -e /src/secret.txt && echo present || echo absent"), "after",
              {dir.path() / "src-layer", upper("secret")})
              .ok());
  CHECK(lines.out == std::vector<std::string>{"absent"});
}

TEST_CASE_FIXTURE(Steps, "debian base: Network::None really cuts the network") {
  auto base = bookworm_base();
  if (!base) return;
  const std::string probe =
      "python3 -c \"import socket; socket.create_connection(('deb.debian.org', 80), 10); "
      "print('connected')\" 2>&1 | tail -n 1";
  REQUIRE(run(*base, shell(probe), "online").ok());
  CHECK(lines.out == std::vector<std::string>{"connected"});
  auto offline = shell(probe);
  offline.network = Network::None;
  REQUIRE(run(*base, offline, "offline").ok());
  REQUIRE(lines.out.size() == 1);
  CHECK(lines.out[0] != "connected");
  CHECK(lines.out[0].find("Errno") != std::string::npos);
}
