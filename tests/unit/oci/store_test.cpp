#include <doctest/doctest.h>

#include <map>

#include "builder/oci/image_builder.hpp"
#include "builder/oci/layer_cache.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "builder/oci/unpack.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;
using cog::test::write_file;
namespace fs = std::filesystem;

TEST_CASE("store: default locations follow COG_IMAGE_STORE, XDG and HOME") {
  auto env = [](std::map<std::string, std::string> values) {
    return [values](const char* name) -> const char* {
      auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  };
  CHECK(default_store_path(env({{"COG_IMAGE_STORE", "/s"}, {"HOME", "/h"}})) == "/s");
  CHECK(default_store_path(env({{"XDG_DATA_HOME", "/x"}, {"HOME", "/h"}})) == "/x/cog/images");
  CHECK(default_store_path(env({{"HOME", "/h"}})) == "/h/.local/share/cog/images");
  CHECK(default_layer_cache_path(env({{"HOME", "/h"}})) == "/h/.cache/cog/layers");
  CHECK(default_layer_cache_path(env({{"XDG_CACHE_HOME", "/c"}})) == "/c/cog/layers");
  CHECK(default_cache_root(env({{"HOME", "/h"}})) == "/h/.cache/cog");
  CHECK(default_cache_root(env({{"XDG_CACHE_HOME", "/c"}, {"HOME", "/h"}})) == "/c/cog");
  CHECK_THROWS_WITH_AS(default_cache_root(env({})), doctest::Contains("neither XDG_CACHE_HOME nor HOME is set"),
                       cog::Error);
  CHECK_THROWS_AS(default_store_path(env({})), cog::Error);
}

TEST_CASE("store: image names get :latest unless they carry a tag or digest") {
  CHECK(normalize_image_name("model") == "model:latest");
  CHECK(normalize_image_name("model:v1") == "model:v1");
  CHECK(normalize_image_name("localhost:5000/model") == "localhost:5000/model:latest");
  CHECK(normalize_image_name("r8.im/user/model:abc") == "r8.im/user/model:abc");
  CHECK(normalize_image_name("m@sha256:abc") == "m@sha256:abc");
  CHECK_THROWS_AS(normalize_image_name(""), cog::Error);
}

TEST_CASE("transport: skopeo-style references") {
  auto oci = parse_image_reference("oci:/tmp/layout:v1");
  CHECK(oci.transport == ImageReference::Transport::Oci);
  CHECK(oci.path == "/tmp/layout");
  CHECK(oci.name == "v1");
  auto archive = parse_image_reference("docker-archive:/tmp/a.tar:repo/name:tag");
  CHECK(archive.transport == ImageReference::Transport::DockerArchive);
  CHECK(archive.path == "/tmp/a.tar");
  CHECK(archive.name == "repo/name:tag");
  CHECK(archive.str() == "docker-archive:/tmp/a.tar:repo/name:tag");
  CHECK(parse_image_reference("oci:dir").name.empty());
  auto store = parse_image_reference("my-model");
  CHECK(store.transport == ImageReference::Transport::Store);
  CHECK(store.name == "my-model:latest");
  CHECK_THROWS_AS(parse_image_reference("oci:"), cog::Error);
  CHECK_THROWS_AS(parse_image_reference("docker://x"), cog::Error);
}

TEST_CASE("builder: layers, config and commit give a reproducible image in the store") {
  TempDir dir;
  write_file(dir / "project/predict.py", "class Predictor: pass\n");
  write_file(dir / "project/cog.yaml", "predict: predict.py:Predictor\n");
  auto build = [&](const fs::path& store_root) {
    ImageStore store(store_root);
    ImageBuilder builder(store.layout());
    builder.set_created(0);
    LayerOptions options;
    options.prefix = "src";
    StoredLayer layer = builder.add_layer_from_directory(dir / "project", options, "COPY . /src");
    builder.config().config.working_dir = "/src";
    builder.config().config.set_env("PYTHONUNBUFFERED", "1");
    builder.config().config.labels["run.cog.version"] = "test";
    builder.add_empty_history("ENV PYTHONUNBUFFERED=1");
    Descriptor manifest = builder.commit();
    store.tag("demo", manifest);
    return std::pair{manifest, layer};
  };
  auto [first, layer] = build(dir / "store1");
  auto [second, layer2] = build(dir / "store2");
  CHECK(first.digest == second.digest);
  CHECK(layer == layer2);

  ImageStore store(dir / "store1");
  CHECK(store.resolve("demo").digest == first.digest);
  CHECK(store.resolve(first.digest.hex.substr(0, 12)).digest == first.digest);
  CHECK_THROWS_AS(store.resolve("other"), cog::Error);
  auto images = store.list();
  REQUIRE(images.size() == 1);
  CHECK(images[0].name == "demo:latest");
  CHECK(images[0].created == "1970-01-01T00:00:00Z");
  CHECK(images[0].size > 0);
  ImageConfig config = store.layout().read_config(store.layout().read_manifest(first.digest));
  CHECK(config.diff_ids == std::vector<Digest>{layer.diff_id});
  CHECK(config.history.size() == 2);
  CHECK(config.config.labels.at("run.cog.version") == "test");

  // A derived image reuses the base's layers; unpacking both layers gives the whole tree.
  Descriptor child;
  {
    ImageBuilder derived(store.layout());
    derived.from_reference(parse_image_reference("demo"));
    write_file(dir / "extra/weights.bin", "w");
    LayerOptions under_src;
    under_src.prefix = "src";
    derived.add_layer_from_directory(dir / "extra", under_src, "COPY weights");
    child = derived.commit();
    store.tag("demo:child", child);
  }  // the builder's lease ends here: only tags keep blobs now
  Manifest manifest = store.layout().read_manifest(child.digest);
  REQUIRE(manifest.layers.size() == 2);
  UnpackStats stats = unpack_image(store.layout(), child, dir / "rootfs");
  CHECK(stats.entries == 5);  // src/, src/cog.yaml, src/predict.py; src/, src/weights.bin
  CHECK(cog::test::read_file(dir / "rootfs/src/predict.py") == "class Predictor: pass\n");
  CHECK(fs::exists(dir / "rootfs/src/weights.bin"));

  CHECK(store.remove("demo"));
  CHECK_FALSE(store.remove("demo"));
  CHECK(store.layout().has_blob(manifest.layers[0].digest));  // still used by demo:child
  CHECK(store.remove("demo:child"));
  CHECK_FALSE(store.layout().has_blob(manifest.layers[0].digest));
}

TEST_CASE("layer cache: hits return the stored layer, a collected blob is a miss") {
  TempDir dir;
  ImageStore store(dir / "store");
  LayerCache cache(dir / "cache", store.layout());
  std::string key = sha256_of("step inputs").str();
  CHECK_FALSE(cache.lookup(key).has_value());

  StoredLayer layer;
  {
    ImageBuilder builder(store.layout());
    write_file(dir / "files/a", "a");
    layer = builder.add_layer_from_directory(dir / "files", {}, "RUN something");
    cache.store(key, layer);
    auto hit = cache.lookup(key);
    REQUIRE(hit.has_value());
    CHECK(*hit == layer);

    ImageBuilder warm(store.layout());
    warm.add_layer(*hit, "RUN something");
    CHECK(warm.commit().digest == builder.commit().digest);
    store.layout().collect_garbage();  // the builders' leases keep the untagged layer
    CHECK(cache.lookup(key).has_value());
  }
  store.layout().collect_garbage();  // nothing tags it now: the blob goes
  CHECK_FALSE(cache.lookup(key).has_value());
  CHECK_THROWS_AS(cache.lookup("../escape"), cog::Error);
  ImageBuilder cold(store.layout());
  CHECK_THROWS_AS(cold.add_layer(layer, "gone"), cog::Error);
}

TEST_CASE("transport: oci: and docker-archive: round trips keep the image") {
  TempDir dir;
  ImageStore store(dir / "store");
  ImageBuilder builder(store.layout());
  write_file(dir / "one/a.txt", "a");
  write_file(dir / "two/b.txt", "b");
  builder.add_layer_from_directory(dir / "one", {}, "layer one");
  builder.add_layer_from_directory(dir / "two", {}, "layer two");
  builder.config().config.cmd = std::vector<std::string>{"/bin/true"};
  Descriptor manifest = builder.commit();

  save_image(store.layout(), manifest, parse_image_reference("oci:" + (dir / "out").string() + ":v1"));
  Layout out = Layout::open(dir / "out");
  CHECK(out.find("v1")->digest == manifest.digest);

  save_image(store.layout(), manifest,
             parse_image_reference("docker-archive:" + (dir / "img.tar").string() + ":demo:v1"));
  auto items = cog::test::read_tar(dir / "img.tar");
  bool has_manifest = false;
  for (const auto& item : items) has_manifest = has_manifest || item.path == "manifest.json";
  CHECK(has_manifest);

  ImageStore other(dir / "other");
  Descriptor imported =
      load_image(parse_image_reference("docker-archive:" + (dir / "img.tar").string() + ":demo:v1"), other.layout());
  Manifest original = store.layout().read_manifest(manifest.digest);
  Manifest copy = other.layout().read_manifest(imported.digest);
  // The config bytes travel verbatim; layers come back uncompressed (their digest = diff_id).
  CHECK(copy.config.digest == original.config.digest);
  ImageConfig config = other.layout().read_config(copy);
  REQUIRE(copy.layers.size() == 2);
  CHECK(copy.layers[0].digest == config.diff_ids[0]);
  CHECK(copy.layers[0].media_type == std::string(media_type::oci_layer_tar));
  CHECK_THROWS_AS(
      load_image(parse_image_reference("docker-archive:" + (dir / "img.tar").string() + ":missing"), other.layout()),
      cog::Error);

  Descriptor from_oci = load_image(parse_image_reference("oci:" + (dir / "out").string() + ":v1"), other.layout());
  CHECK(from_oci.digest == manifest.digest);
  CHECK(other.layout().has_blob(original.layers[1].digest));
}
