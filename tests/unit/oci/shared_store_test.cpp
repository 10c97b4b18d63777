// Which image store is the shared one: `cog rmi` prunes the caches every store shares (the unpacked
// rootfs layers) only from it.
#include <doctest/doctest.h>

#include <map>

#include "builder/oci/store.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;

TEST_CASE("store: only the XDG/HOME store is the shared one, whatever COG_IMAGE_STORE says") {
  TempDir dir;
  auto env = [](std::map<std::string, std::string> values) {
    return [values](const char* name) -> const char* {
      auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  };
  const auto home = (dir / "home").string();
  const auto shared = dir / "home/.local/share/cog/images";
  CHECK(is_shared_store(shared, env({{"HOME", home}})));
  CHECK(is_shared_store(shared, env({{"HOME", home}, {"COG_IMAGE_STORE", (dir / "private").string()}})));
  CHECK_FALSE(is_shared_store(dir / "private", env({{"HOME", home}, {"COG_IMAGE_STORE", (dir / "private").string()}})));
  CHECK(is_shared_store(dir / "xdg/cog/images", env({{"HOME", home}, {"XDG_DATA_HOME", (dir / "xdg").string()}})));
  ImageStore created(shared);  // once there, found by identity: a symlinked or ./-spelt path is the same
  std::filesystem::create_directories(dir / "link-parent");
  std::filesystem::create_directory_symlink(shared, dir / "link-parent/images");
  CHECK(is_shared_store(dir / "link-parent/images", env({{"HOME", home}})));
  ImageStore other(dir / "private");
  CHECK_FALSE(is_shared_store(dir / "private", env({{"HOME", home}})));
}
