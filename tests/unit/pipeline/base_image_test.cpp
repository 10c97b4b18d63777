// --base-image pieces that need no registry or sandbox: mirror hosts, paths resolved inside a
// root, and hostile base layers (unpacked as the build would, into a temporary rootfs cache).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "builder/pipeline/base_image.hpp"
#include "builder/oci/image.hpp"
#include "builder/oci/layout.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
namespace pipeline = cog::builder::pipeline;
namespace oci = cog::builder::oci;

namespace {

// A raw ustar entry, written by hand so that names a careful writer would refuse get through.
struct RawEntry {
  std::string name;
  char type = '0';  // '0' file, '1' hard link, '2' symlink, '5' directory
  std::string content;
  std::string link;
};

std::string ustar(const std::vector<RawEntry>& entries) {
  std::string tar;
  for (const auto& entry : entries) {
    char header[512] = {};
    std::snprintf(header, 100, "%s", entry.name.c_str());
    std::snprintf(header + 100, 8, "%07o", entry.type == '5' ? 0755 : 0644);
    std::snprintf(header + 108, 8, "%07o", 0);
    std::snprintf(header + 116, 8, "%07o", 0);
    std::snprintf(header + 124, 12, "%011o", static_cast<unsigned>(entry.content.size()));
    std::snprintf(header + 136, 12, "%011o", 0);
    header[156] = entry.type;
    std::snprintf(header + 157, 100, "%s", entry.link.c_str());
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memset(header + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char byte : header) sum += byte;
    std::snprintf(header + 148, 8, "%06o", sum);
    tar.append(header, 512);
    tar += entry.content;
    tar.append((512 - entry.content.size() % 512) % 512, '\0');
  }
  tar.append(1024, '\0');
  return tar;
}

// An OCI layout holding one image whose only layer is `tar` (uncompressed); returns its manifest.
oci::Descriptor image_with_layer(oci::Layout& layout, const std::string& tar) {
  auto layer = layout.write_blob(tar, oci::media_type::oci_layer_tar);
  oci::ImageConfig config;
  config.diff_ids = {layer.digest};
  oci::Manifest manifest;
  manifest.config = layout.write_config(config);
  manifest.layers = {layer};
  return layout.write_manifest(manifest);
}

std::string error_text(const std::function<void()>& work) {
  try {
    work();
  } catch (const cog::Error& error) {
    return error.describe();
  }
  return "";
}

}  // namespace

TEST_CASE("registry mirrors are hosts with an optional port") {
  CHECK(pipeline::parse_registry_mirror("mirror.example.com") == "mirror.example.com");
  CHECK(pipeline::parse_registry_mirror("https://mirror.example.com/") == "mirror.example.com");
  CHECK(pipeline::parse_registry_mirror("127.0.0.1:5000") == "127.0.0.1:5000");
  CHECK(pipeline::parse_registry_mirror("[::1]:5000") == "[::1]:5000");
  CHECK_THROWS_AS(pipeline::parse_registry_mirror(""), cog::Error);
  CHECK_THROWS_AS(pipeline::parse_registry_mirror("mirror.example.com/v2/library"), cog::Error);
  CHECK_THROWS_AS(pipeline::parse_registry_mirror("user@host"), cog::Error);

  cog::builder::registry::Reference ref{"docker.io", "library/python", "3.11", ""};
  auto mirrored = pipeline::on_mirror(ref, "127.0.0.1:5000");
  CHECK(mirrored.str() == "127.0.0.1:5000/library/python:3.11");
}

TEST_CASE("paths are resolved inside the root, never outside") {
  TempDir dir;
  const fs::path root = dir.path / "root";
  fs::create_directories(root / "usr/bin");
  fs::create_directories(dir.path / "sbin");
  std::ofstream(root / "usr/bin/tini") << "#!/bin/sh\n";
  std::ofstream(dir.path / "sbin/tini") << "outside\n";
  fs::create_symlink("usr/bin", root / "bin");
  fs::create_symlink("/usr/bin/tini", root / "absolute");
  fs::create_symlink("../../../../sbin", root / "climb");
  fs::create_symlink("loop", root / "loop");

  CHECK(pipeline::resolve_in_root(root, "/bin/tini") == root / "usr/bin/tini");
  CHECK(pipeline::resolve_in_root(root, "/absolute") == root / "usr/bin/tini");
  // `..` stops at the root: climb/tini is root/sbin/tini (missing), never dir/sbin/tini.
  CHECK_FALSE(pipeline::resolve_in_root(root, "/climb/tini").has_value());
  CHECK_FALSE(pipeline::resolve_in_root(root, "/loop").has_value());
  CHECK_FALSE(pipeline::resolve_in_root(root, "/usr/bin/missing").has_value());
}

TEST_CASE("a hostile base layer is rejected or contained, never writes outside the root") {
  TempDir dir;
  auto layout = oci::Layout::create(dir.path / "layout");
  const fs::path cache = dir.path / "rootfs";
  fs::create_directories(cache);
  std::ofstream(dir.path / "victim") << "keep me";

  SUBCASE("`..` in a path") {
    auto manifest = image_with_layer(layout, ustar({{.name = "../../escape", .content = "x"}}));
    auto text = error_text([&] { pipeline::unpack_base(layout, manifest, cache, "oci:hostile"); });
    CHECK(text.find("--base-image oci:hostile") != std::string::npos);
    CHECK(text.find("..") != std::string::npos);
    CHECK_FALSE(fs::exists(dir.path / "escape"));
  }
  SUBCASE("a whiteout reaching outside") {
    auto manifest = image_with_layer(layout, ustar({{.name = "../.wh.victim", .content = ""}}));
    CHECK_FALSE(error_text([&] { pipeline::unpack_base(layout, manifest, cache, "oci:hostile"); }).empty());
    CHECK(fs::exists(dir.path / "victim"));
  }
  SUBCASE("a symlink to the outside, then a file written through it") {
    auto manifest = image_with_layer(layout, ustar({{.name = "out", .type = '2', .link = dir.path.string()},
                                                    {.name = "out/victim", .content = "overwritten"},
                                                    {.name = "/etc/absolute", .content = "inside"}}));
    std::vector<fs::path> lowers;
    error_text([&] { lowers = pipeline::unpack_base(layout, manifest, cache, "oci:hostile"); });
    std::ifstream victim(dir.path / "victim");
    std::string kept((std::istreambuf_iterator<char>(victim)), std::istreambuf_iterator<char>());
    CHECK(kept == "keep me");
    if (!lowers.empty()) {
      // Contained: the link resolves inside the root, the absolute path lands under it.
      CHECK(fs::exists(lowers.front() / "etc/absolute"));
    }
  }
  SUBCASE("a hard link to a file outside") {
    auto manifest =
        image_with_layer(layout, ustar({{.name = "link", .type = '1', .link = (dir.path / "victim").string()}}));
    std::vector<fs::path> lowers;
    error_text([&] { lowers = pipeline::unpack_base(layout, manifest, cache, "oci:hostile"); });
    if (!lowers.empty() && fs::exists(lowers.front() / "link")) {
      CHECK_FALSE(fs::equivalent(lowers.front() / "link", dir.path / "victim"));
    }
  }
  // Nothing but finished roots and finished layers stays in the cache after a rejected unpack.
  for (const auto& entry : fs::directory_iterator(cache)) {
    if (entry.path().filename() == "layers") {
      for (const auto& layer : fs::directory_iterator(entry.path())) {
        CHECK_FALSE(layer.path().filename().string().starts_with(".unpack-"));
      }
      continue;
    }
    CHECK(fs::exists(entry.path() / ".cog-complete"));
  }
}
