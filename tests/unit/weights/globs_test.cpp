// Include/exclude globs of weight sources (builder/weights/globs.hpp).
#include <doctest/doctest.h>

#include "builder/weights/globs.hpp"

using cog::builder::weights::glob_matches;
using cog::builder::weights::keep_file;

TEST_CASE("a pattern without '/' matches the file name at any depth") {
  CHECK(glob_matches("*.safetensors", "model.safetensors"));
  CHECK(glob_matches("*.safetensors", "unet/diffusion.safetensors"));
  CHECK_FALSE(glob_matches("*.safetensors", "model.safetensors.json"));
  CHECK(glob_matches("config.json", "text_encoder/config.json"));
  CHECK(glob_matches("model-0000?.bin", "model-00001.bin"));
  CHECK(glob_matches("[ab].txt", "sub/b.txt"));
  CHECK_FALSE(glob_matches("*.txt", ".hidden.txt"));  // a leading dot is matched explicitly, as in shells
}

TEST_CASE("a pattern with '/' matches the whole relative path, and ** spans directories") {
  CHECK(glob_matches("unet/*.bin", "unet/a.bin"));
  CHECK_FALSE(glob_matches("unet/*.bin", "unet/deep/a.bin"));
  CHECK_FALSE(glob_matches("unet/*.bin", "other/unet/a.bin"));
  CHECK(glob_matches("unet/**/*.bin", "unet/a.bin"));
  CHECK(glob_matches("unet/**/*.bin", "unet/x/y/a.bin"));
  CHECK(glob_matches("**/config.json", "config.json"));
  CHECK(glob_matches("**/config.json", "a/b/config.json"));
  CHECK(glob_matches("docs/**", "docs/a/b.md"));
  CHECK_FALSE(glob_matches("docs/**", "src/docs.md"));
}

TEST_CASE("include chooses, exclude removes") {
  CHECK(keep_file("a.bin", {}, {}));
  CHECK(keep_file("a.bin", {"*.bin", "*.json"}, {}));
  CHECK_FALSE(keep_file("a.md", {"*.bin", "*.json"}, {}));
  CHECK_FALSE(keep_file("fp16/a.bin", {"*.bin"}, {"fp16/**"}));
  CHECK(keep_file("fp32/a.bin", {"*.bin"}, {"fp16/**"}));
  CHECK_FALSE(keep_file("README.md", {}, {"*.md"}));
}
