// Randomised hostile layers (a fixed seed, so every run is the same): whatever mix of '..',
// absolute paths, symlinks, hard links and whiteouts a layer holds, unpacking either fails with
// cog::Error or succeeds, and nothing outside the root changes.
#include <doctest/doctest.h>

#include <random>

#include "builder/oci/unpack.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
namespace fs = std::filesystem;

TEST_CASE("unpack: random hostile layers never touch anything outside the root") {
  const char* parts[] = {"a", "b", "..", ".", "", ".wh.a", ".wh..wh..opq", "l", "outside", "/", ".wh..."};
  const char* targets[] = {"/", "..", "../..", "a", "/outside", "../outside/victim", "l", "a/b", "/a/../..", "l/l"};
  std::mt19937 random(20240601);
  cog::test::TempDir dir;
  for (int iteration = 0; iteration < 300; ++iteration) {
    fs::remove_all(dir / "rootfs");
    fs::remove_all(dir / "outside");
    cog::test::write_file(dir / "outside/victim", "intact");
    {
      cog::test::TarBuilder tar(dir / "layer.tar");
      int entries = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < entries; ++i) {
        std::string path;
        int depth = 1 + static_cast<int>(random() % 3);
        for (int d = 0; d < depth; ++d) path += std::string(d ? "/" : "") + parts[random() % 11];
        const char* target = targets[random() % 10];
        switch (random() % 4) {
          case 0:
            tar.file(path, "x");
            break;
          case 1:
            tar.dir(path);
            break;
          case 2:
            tar.symlink(path, target);
            break;
          case 3:
            tar.hardlink(path, target);
            break;
        }
      }
    }
    try {
      apply_layer(dir / "layer.tar", dir / "rootfs");
    } catch (const cog::Error&) {
      // Rejected: fine. Anything else (a crash, another exception type) fails the test.
    }
    CAPTURE(iteration);
    REQUIRE(cog::test::read_file(dir / "outside/victim") == "intact");
    REQUIRE(std::distance(fs::recursive_directory_iterator(dir / "outside"), fs::recursive_directory_iterator()) == 1);
    REQUIRE(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 3);
  }
}
