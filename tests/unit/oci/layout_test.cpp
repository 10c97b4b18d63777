#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "builder/oci/layout.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A minimal image: one layer blob, a config, a manifest.
Descriptor put_image(Layout& layout, const std::string& layer_bytes) {
  Descriptor layer = layout.write_blob(layer_bytes, media_type::oci_layer_tar);
  ImageConfig config;
  config.diff_ids = {layer.digest};
  Manifest manifest;
  manifest.config = layout.write_config(config);
  manifest.layers = {layer};
  return layout.write_manifest(manifest);
}

}  // namespace

TEST_CASE("layout: create writes oci-layout and an empty index, open requires them") {
  TempDir dir;
  CHECK_THROWS_AS(Layout::open(dir / "nothing"), cog::Error);
  Layout layout = Layout::create(dir / "l");
  CHECK(cog::test::read_file(dir / "l/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  CHECK(layout.index().manifests.empty());
  CHECK_NOTHROW(Layout::open(dir / "l"));
  CHECK_NOTHROW(Layout::create(dir / "l"));  // idempotent
}

TEST_CASE("layout: blobs are content addressed and verified") {
  TempDir dir;
  Layout layout = Layout::create(dir / "l");
  Descriptor blob = layout.write_blob("hello", "text/plain");
  CHECK(blob.digest == sha256_of("hello"));
  CHECK(blob.size == 5);
  CHECK(layout.has_blob(blob.digest));
  CHECK(layout.read_blob(blob.digest) == "hello");
  CHECK(fs::exists(dir / "l/blobs/sha256" / blob.digest.hex));
  CHECK_THROWS_AS(layout.write_blob("evil", "text/plain", blob.digest), cog::Error);
  CHECK_FALSE(layout.has_blob(sha256_of("evil")));
  CHECK_THROWS_AS(layout.read_blob(sha256_of("absent")), cog::Error);

  cog::test::write_file(dir / "big", std::string(100000, 'b'));
  Descriptor moved = layout.write_blob_file(dir / "big", "x", sha256_of(std::string(100000, 'b')), true);
  CHECK_FALSE(fs::exists(dir / "big"));
  CHECK(layout.read_blob(moved.digest).size() == 100000);
  // No temporary files are left next to the blobs.
  for (const auto& entry : fs::directory_iterator(dir / "l/blobs/sha256")) {
    CHECK_FALSE(entry.path().filename().string().starts_with("."));
  }
}

TEST_CASE("layout: tag, replace, list, untag") {
  TempDir dir;
  Layout layout = Layout::create(dir / "l");
  Descriptor one = put_image(layout, "one");
  Descriptor two = put_image(layout, "two");
  layout.tag("latest", one);
  layout.tag("v2", two);
  layout.tag("latest", two);  // replaces
  auto tags = layout.list();
  REQUIRE(tags.size() == 2);
  CHECK(tags[0].name == "latest");
  CHECK(tags[0].manifest.digest == two.digest);
  CHECK(layout.find("v2")->annotations.at(ref_name_annotation) == "v2");
  CHECK_FALSE(layout.find("nope").has_value());
  CHECK(layout.read_manifest(layout.find("latest")->digest).layers[0].digest == sha256_of("two"));
  CHECK(layout.untag("v2"));
  CHECK_FALSE(layout.untag("v2"));
  CHECK(layout.list().size() == 1);
  // Reopened from disk, the same state.
  CHECK(Layout::open(dir / "l").list().size() == 1);
}

TEST_CASE("layout: garbage collection keeps what tags reach and deletes the rest") {
  TempDir dir;
  Layout layout = Layout::create(dir / "l");
  Descriptor kept = put_image(layout, "kept-layer");
  Descriptor dropped = put_image(layout, "dropped-layer");
  Descriptor stray = layout.write_blob("stray", "x");
  Descriptor rooted = layout.write_blob("rooted", "x");
  layout.tag("keep", kept);
  GcResult result = layout.collect_garbage({rooted.digest});
  CHECK(result.blobs_removed == 4);  // dropped manifest, its config and layer, the stray blob
  CHECK(layout.has_blob(kept.digest));
  CHECK(layout.has_blob(sha256_of("kept-layer")));
  CHECK(layout.has_blob(rooted.digest));
  CHECK_FALSE(layout.has_blob(dropped.digest));
  CHECK_FALSE(layout.has_blob(sha256_of("dropped-layer")));
  CHECK_FALSE(layout.has_blob(stray.digest));
  CHECK(layout.collect_garbage({rooted.digest}).blobs_removed == 0);
}

TEST_CASE("layout: a live lease protects untagged blobs, a dead one does not") {
  TempDir dir;
  Layout layout = Layout::create(dir / "l");
  Descriptor leased = layout.write_blob("in progress", "x");
  {
    BlobLease lease(layout.root());
    lease.add(leased.digest);
    CHECK(layout.collect_garbage().blobs_removed == 0);
    CHECK(layout.has_blob(leased.digest));
  }
  // A lease left behind by a process that no longer exists (pid far above pid_max) is ignored.
  cog::test::write_file(dir / "l/.cog-leases/999999999-dead", leased.digest.str() + "\n");
  CHECK(layout.collect_garbage().blobs_removed == 1);
  CHECK_FALSE(fs::exists(dir / "l/.cog-leases/999999999-dead"));
}

TEST_CASE("a consistent read holds off untag and garbage collection until it ends") {
  TempDir dir;
  Layout layout = Layout::create(dir.path());
  const Descriptor image = put_image(layout, "layer");
  layout.tag("model:latest", image);
  Layout other = Layout::open(dir.path());  // another cog's view of the same store
  std::atomic<bool> collected{false};
  std::thread rival;
  layout.read_consistently([&] {
    rival = std::thread([&] {
      other.untag("model:latest");
      other.collect_garbage();
      collected = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK_FALSE(collected.load());
    // Everything the listing names is still readable inside the read.
    REQUIRE(layout.list().size() == 1);
    CHECK(layout.read_config(layout.read_manifest(image.digest)).diff_ids.size() == 1);
  });
  rival.join();
  CHECK(collected.load());
  CHECK(layout.list().empty());
  CHECK_FALSE(layout.has_blob(image.digest));
}
