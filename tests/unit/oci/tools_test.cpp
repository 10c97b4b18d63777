// Independent checks with other people's tools: umoci and skopeo must read what we write, and
// runc must run it. Each is skipped only when the tool is not installed.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "builder/oci/image_builder.hpp"
#include "builder/oci/transport.hpp"
#include "helpers.hpp"
#include "skip.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;
using cog::test::write_file;
namespace fs = std::filesystem;

namespace {

bool have(const char* tool) {
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/bin/", "/sbin/"}) {
    if (::access((std::string(dir) + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

struct Result {
  int status = -1;
  std::string output;
};

Result run(const std::string& command) {
  Result result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  result.status = ::pclose(pipe);
  return result;
}

std::string quote(const fs::path& path) { return "'" + path.string() + "'"; }

// Two layers: a static hello binary plus a file to delete, then a layer deleting it (captured
// from an overlay-style upper dir, so the whiteout path is exercised end to end).
Descriptor build_image(const TempDir& dir, Layout& layout, bool& has_binary) {
  write_file(dir / "src.c", "#include <unistd.h>\nint main(){write(1,\"hello from cog image\\n\",21);return 0;}\n");
  fs::create_directories(dir / "base/tmp");
  has_binary = run("cc -static -O2 -o " + quote(dir / "base/hello") + " " + quote(dir / "src.c")).status == 0;
  write_file(dir / "base/tmp/gone.txt", "gone");
  write_file(dir / "base/tmp/kept.txt", "kept");
  fs::create_directories(dir / "upper/tmp");
  write_file(dir / "upper/etc/added.conf", "added");
  if (::mknod((dir / "upper/tmp/gone.txt").c_str(), S_IFCHR, makedev(0, 0)) != 0) {
    write_file(dir / "upper/tmp/.wh.gone.txt", "");  // unprivileged: write the marker directly
  }

  ImageBuilder builder(layout);
  builder.add_layer_from_directory(dir / "base", {}, "COPY base /");
  builder.add_layer_from_overlay(dir / "upper", {}, "RUN rm /tmp/gone.txt");
  builder.config().config.entrypoint = std::vector<std::string>{"/hello"};
  builder.config().config.set_env("PATH", "/usr/local/bin:/usr/bin:/bin");
  builder.config().config.labels["run.cog.version"] = "test";
  return builder.commit("v1");
}

}  // namespace

TEST_CASE("tools: umoci unpacks our OCI layout, with whiteouts applied") {
  if (!have("umoci") || ::geteuid() != 0) COG_SKIP("needs root and umoci");
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  bool has_binary = false;
  build_image(dir, layout, has_binary);
  Result unpack = run("umoci unpack --image " + quote(dir / "layout") + ":v1 " + quote(dir / "bundle"));
  INFO(unpack.output);
  REQUIRE(unpack.status == 0);
  CHECK(fs::exists(dir / "bundle/rootfs/tmp/kept.txt"));
  CHECK_FALSE(fs::exists(dir / "bundle/rootfs/tmp/gone.txt"));
  CHECK(cog::test::read_file(dir / "bundle/rootfs/etc/added.conf") == "added");
  auto config = nlohmann::json::parse(cog::test::read_file(dir / "bundle/config.json"));
  CHECK(config["process"]["args"] == nlohmann::json::array({"/hello"}));

  if (!have("runc") || !has_binary) return;
  config["process"]["terminal"] = false;
  std::ofstream(dir / "bundle/config.json") << config.dump();
  std::string id = "cog-oci-test-" + std::to_string(::getpid());
  Result container = run("runc --root " + quote(dir / "runc") + " run --bundle " + quote(dir / "bundle") + " " + id);
  INFO(container.output);
  CHECK(container.status == 0);
  CHECK(container.output.find("hello from cog image") != std::string::npos);
}

TEST_CASE("tools: skopeo inspects and copies our OCI layout and docker-archive") {
  if (!have("skopeo")) COG_SKIP("skopeo is not installed");
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  bool has_binary = false;
  Descriptor manifest = build_image(dir, layout, has_binary);

  Result inspect = run("skopeo inspect oci:" + quote(dir / "layout") + ":v1");
  INFO(inspect.output);
  REQUIRE(inspect.status == 0);
  auto info = nlohmann::json::parse(inspect.output);
  CHECK(info["Digest"] == manifest.digest.str());
  CHECK(info["Layers"].size() == 2);
  CHECK(info["Labels"]["run.cog.version"] == "test");
  CHECK(info["Architecture"] == "amd64");

  // skopeo writes a docker-archive from our layout; we read it back.
  Result copy =
      run("skopeo copy oci:" + quote(dir / "layout") + ":v1 docker-archive:" + quote(dir / "skopeo.tar") + ":demo:v1");
  INFO(copy.output);
  REQUIRE(copy.status == 0);
  Layout other = Layout::create(dir / "other");
  Descriptor imported = import_docker_archive(dir / "skopeo.tar", "demo:v1", other);
  ImageConfig original = layout.read_config(layout.read_manifest(manifest.digest));
  ImageConfig roundtrip = other.read_config(other.read_manifest(imported.digest));
  CHECK(roundtrip.diff_ids == original.diff_ids);
  CHECK(roundtrip.config.entrypoint == original.config.entrypoint);

  // We write a docker-archive; skopeo reads it and copies it into a fresh OCI layout.
  export_docker_archive(layout, manifest, dir / "ours.tar", {"demo:v1"});
  Result archive = run("skopeo inspect docker-archive:" + quote(dir / "ours.tar"));
  INFO(archive.output);
  REQUIRE(archive.status == 0);
  CHECK(nlohmann::json::parse(archive.output)["Layers"].size() == 2);
  Result back = run("skopeo copy docker-archive:" + quote(dir / "ours.tar") + " oci:" + quote(dir / "back") + ":v1");
  INFO(back.output);
  CHECK(back.status == 0);
  if (have("umoci") && ::geteuid() == 0) {
    Result unpack = run("umoci unpack --image " + quote(dir / "back") + ":v1 " + quote(dir / "bundle"));
    INFO(unpack.output);
    CHECK(unpack.status == 0);
    CHECK(fs::exists(dir / "bundle/rootfs/tmp/kept.txt"));
    CHECK_FALSE(fs::exists(dir / "bundle/rootfs/tmp/gone.txt"));
  }
}
