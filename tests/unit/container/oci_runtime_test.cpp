// Runs real containers with runc and crun on a tiny root filesystem made of the host's dash.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "builder/container/oci_runtime.hpp"
#include "support/error.hpp"
#include "support/subprocess.hpp"
#include "support/text_file.hpp"
#include "tests/unit/temp_dir.hpp"
#include "skip.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using namespace cog::builder::container;

namespace {

// A root filesystem with /bin/sh (the host's dash) and the shared libraries it needs.
fs::path make_tiny_rootfs(const fs::path& dir) {
  fs::create_directories(dir / "bin");
  fs::copy_file("/bin/dash", dir / "bin/sh", fs::copy_options::overwrite_existing);
  auto libraries = cog::support::run_captured({"ldd", "/bin/dash"});
  std::istringstream lines(libraries.stdout_text);
  std::string line;
  while (std::getline(lines, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash, line.find(' ', slash) - slash);
    fs::create_directories(dir / fs::path(path).relative_path().parent_path());
    fs::copy_file(path, dir / fs::path(path).relative_path(), fs::copy_options::overwrite_existing);
  }
  for (const char* sub : {"proc", "dev", "sys", "tmp", "etc", "src"}) fs::create_directories(dir / sub);
  return dir;
}

void check_runtime(const std::string& name) {
  TempDir temp;
  auto rootfs = make_tiny_rootfs(temp.path / "rootfs");
  fs::create_directories(temp.path / "project");
  std::ofstream(temp.path / "project" / "greeting.txt") << "from-the-project";

  ContainerSpec spec;
  spec.rootfs = rootfs;
  spec.args = {"/bin/sh", "-c", "echo \"$GREETING\"; read line < /src/greeting.txt; echo $line; exit 3"};
  spec.env = {"PATH=/bin", "GREETING=hello-from-" + name};
  spec.cwd = "/src";
  spec.binds.push_back({temp.path / "project", "/src", true});

  auto runtime = detect_runtime(name);
  Bundle bundle(temp.path / "bundles", spec);
  cog::support::SpawnOptions io;
  io.capture_stdout = true;
  io.capture_stderr = true;
  Container container(runtime, bundle, new_container_id("cog-test"), io);
  auto result = container.wait();
  INFO("stderr: " << result.stderr_text);
  CHECK(result.exit_code == 3);
  CHECK(result.stdout_text == "hello-from-" + name + "\nfrom-the-project\n");
}

}  // namespace

TEST_CASE("runtime_spec shares the host network and binds the project") {
  ContainerSpec spec;
  spec.rootfs = "/tmp/rootfs";
  spec.args = {"python", "-m", "cog.server.http"};
  spec.binds.push_back({"/work/project", "/src", false});
  auto config = runtime_spec(spec);
  CHECK(config["process"]["args"][2] == "cog.server.http");
  CHECK(config["root"]["path"] == "/tmp/rootfs");
  bool has_network_namespace = false;
  for (const auto& ns : config["linux"]["namespaces"]) has_network_namespace |= ns["type"] == "network";
  CHECK_FALSE(has_network_namespace);
  bool has_src = false;
  for (const auto& mount : config["mounts"]) {
    if (mount["destination"] == "/src") {
      has_src = true;
      CHECK(mount["source"] == "/work/project");
      CHECK(mount["options"][1] == "rw");
    }
  }
  CHECK(has_src);
  spec.host_network = false;
  CHECK(runtime_spec(spec)["linux"]["namespaces"].back()["type"] == "network");
}

TEST_CASE("a container's /etc/hosts keeps the host's and names the host as host.docker.internal") {
  const std::string hosts = container_hosts("127.0.0.1 localhost\n10.0.0.5 db.internal", "cog");
  CHECK(hosts.starts_with("127.0.0.1 localhost\n10.0.0.5 db.internal\n"));
  CHECK(hosts.find("::1\tlocalhost ip6-localhost ip6-loopback\n") != std::string::npos);
  CHECK(hosts.find("127.0.0.1\tcog\n") != std::string::npos);
  CHECK(hosts.substr(hosts.size() - 31) == "127.0.0.1\thost.docker.internal\n");
}

TEST_CASE("the bundle binds its own hosts, resolv.conf and hostname read-only") {
  TempDir dir;
  ContainerSpec spec;
  spec.rootfs = "/tmp/rootfs";
  spec.hostname = "model";
  write_network_files(spec, dir.path);
  std::map<std::string, std::string> sources;
  const auto document = runtime_spec(spec);
  for (const auto& mount : document["mounts"]) {
    if (mount["type"] == "bind") {
      sources[mount["destination"].get<std::string>()] = mount["source"].get<std::string>();
      CHECK(mount["options"][1] == "ro");
    }
  }
  CHECK(sources.at("/etc/hosts") == (dir.path / "hosts").string());
  CHECK(sources.at("/etc/hostname") == (dir.path / "hostname").string());
  CHECK(cog::support::read_text_file(dir.path / "hostname") == "model\n");
  CHECK(cog::support::read_text_file(dir.path / "hosts").find("127.0.0.1\tmodel\n") != std::string::npos);
  if (std::filesystem::exists("/etc/resolv.conf")) {
    CHECK(cog::support::read_text_file(sources.at("/etc/resolv.conf")) ==
          cog::support::read_text_file("/etc/resolv.conf"));
  }
}

TEST_CASE("an unknown runtime name is a usage error") {
  CHECK_THROWS_WITH_AS(detect_runtime("lxc"), doctest::Contains("unknown OCI runtime"), cog::Error);
}

TEST_CASE("runc runs a container with env, workdir, a bind mount and the exit code") {
  if (geteuid() != 0 || !cog::support::find_program("runc")) COG_SKIP("runc needs root and the runc package");
  check_runtime("runc");
}

TEST_CASE("crun runs the same container (hybrid cgroup layout handled)") {
  if (geteuid() != 0 || !cog::support::find_program("crun")) COG_SKIP("crun needs root and the crun package");
  check_runtime("crun");
}
