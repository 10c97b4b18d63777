#include <doctest/doctest.h>

#include "builder/oci/image_file.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TarBuilder;
using cog::test::TempDir;

namespace {

// A manifest whose layers (bottom first) are the tars at `files`, stored in `layout`.
Manifest manifest_of(Layout& layout, const std::vector<std::filesystem::path>& files) {
  Manifest manifest;
  for (const auto& file : files) manifest.layers.push_back(layout.write_blob_file(file, media_type::oci_layer_tar));
  return manifest;
}

}  // namespace

TEST_CASE("read_image_file: the top layer's copy wins, whiteouts and opaque directories hide lower ones") {
  TempDir dir;
  auto layout = Layout::create(dir / "oci");
  TarBuilder(dir / "base.tar").dir("etc").file("etc/os", "debian").dir(".cog").file(".cog/weights.json", "old");
  TarBuilder(dir / "top.tar").dir("./.cog").file("./.cog/weights.json", "{\"weights\":[]}");
  TarBuilder(dir / "removed.tar").file(".cog/.wh.weights.json", "");
  TarBuilder(dir / "opaque.tar").dir(".cog").file(".cog/.wh..wh..opq", "").file(".cog/other", "x");
  TarBuilder(dir / "dir-gone.tar").file(".wh..cog", "");

  CHECK(read_image_file(layout, manifest_of(layout, {dir / "base.tar"}), ".cog/weights.json") == "old");
  CHECK(read_image_file(layout, manifest_of(layout, {dir / "base.tar", dir / "top.tar"}), "/.cog/weights.json") ==
        "{\"weights\":[]}");
  CHECK(read_image_file(layout, manifest_of(layout, {dir / "base.tar"}), "etc/os") == "debian");
  CHECK_FALSE(read_image_file(layout, manifest_of(layout, {dir / "base.tar"}), "etc/none"));
  CHECK_FALSE(
      read_image_file(layout, manifest_of(layout, {dir / "base.tar", dir / "removed.tar"}), ".cog/weights.json"));
  CHECK_FALSE(
      read_image_file(layout, manifest_of(layout, {dir / "base.tar", dir / "opaque.tar"}), ".cog/weights.json"));
  CHECK_FALSE(
      read_image_file(layout, manifest_of(layout, {dir / "base.tar", dir / "dir-gone.tar"}), ".cog/weights.json"));
  // A whiteout below the file's own layer hides nothing above it.
  CHECK(read_image_file(layout, manifest_of(layout, {dir / "base.tar", dir / "removed.tar", dir / "top.tar"}),
                        ".cog/weights.json") == "{\"weights\":[]}");
  CHECK(read_image_file(layout, manifest_of(layout, {dir / "base.tar"}), "etc") == std::nullopt);  // a directory
}

TEST_CASE("read_image_file: a file over the size limit is refused, naming it") {
  TempDir dir;
  auto layout = Layout::create(dir / "oci");
  TarBuilder(dir / "big.tar").dir(".cog").file(".cog/weights.json", std::string(2048, 'x'));
  try {
    read_image_file(layout, manifest_of(layout, {dir / "big.tar"}), ".cog/weights.json", 1024);
    FAIL("expected an error");
  } catch (const cog::Error& error) {
    CHECK(error.where() == "/.cog/weights.json");
    CHECK(error.message().find("larger than 1024 bytes") != std::string::npos);
  }
}
