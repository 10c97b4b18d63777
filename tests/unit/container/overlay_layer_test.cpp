// Layers unpacked one by one for overlayfs: whiteouts become 0/0 character devices and opaque
// markers become trusted.overlay.opaque, and a real overlay mount of two such layers hides what
// the upper one deleted. Needs root (mknod, trusted xattrs, mount).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "builder/container/overlay_layer.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "support/subprocess.hpp"
#include "tests/unit/temp_dir.hpp"
#include "skip.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
using cog::test::write_file;
using namespace cog::builder::container;

namespace {

// A layer tar of `tree` made by GNU tar: whiteouts are plain files named .wh.* in it.
fs::path make_layer(const fs::path& tree, const fs::path& tar) {
  auto result = cog::support::run_captured({"tar", "-cf", tar.string(), "-C", tree.string(), "."});
  REQUIRE(result.exit_code == 0);
  return tar;
}

}  // namespace

TEST_CASE("a layer's whiteouts become overlayfs whiteouts, and an overlay honours them") {
  if (geteuid() != 0) COG_SKIP("needs root");
  TempDir temp;
  write_file(temp.path / "base/etc/keep", "kept\n");
  write_file(temp.path / "base/etc/removed", "gone\n");
  write_file(temp.path / "base/usr/share/doc/old", "old\n");
  write_file(temp.path / "top/etc/.wh.removed", "");
  write_file(temp.path / "top/usr/share/doc/.wh..wh..opq", "");
  write_file(temp.path / "top/usr/share/doc/new", "new\n");
  write_file(temp.path / "top/var/.wh.never-existed", "");
  const fs::path base_tar = make_layer(temp.path / "base", temp.path / "base.tar");
  const fs::path top_tar = make_layer(temp.path / "top", temp.path / "top.tar");

  const auto whiteouts = scan_whiteouts(top_tar);
  CHECK(whiteouts.removed.size() == 2);
  REQUIRE(whiteouts.opaque_dirs.size() == 1);
  CHECK(whiteouts.opaque_dirs[0] == "usr/share/doc");

  const fs::path base = temp.path / "layers/base", top = temp.path / "layers/top";
  fs::create_directories(base);
  fs::create_directories(top);
  unpack_layer_for_overlay(base_tar, base);
  unpack_layer_for_overlay(top_tar, top);
  struct stat info {};
  REQUIRE(lstat((top / "etc/removed").c_str(), &info) == 0);
  CHECK(S_ISCHR(info.st_mode));
  CHECK(info.st_rdev == makedev(0, 0));
  CHECK_FALSE(fs::exists(top / "etc/.wh.removed"));
  char value[4] = {};
  CHECK(getxattr((top / "usr/share/doc").c_str(), "trusted.overlay.opaque", value, sizeof value) == 1);
  CHECK(value[0] == 'y');
  CHECK(fs::exists(top / "usr/share/doc/new"));

  // The real kernel's view, in a throwaway mount namespace.
  const fs::path merged = temp.path / "merged";
  fs::create_directories(merged);
  const std::string script = "mount -t overlay overlay -o lowerdir=" + top.string() + ":" + base.string() + " " +
                             merged.string() + " && cd " + merged.string() + " && ls etc usr/share/doc";
  const auto listing =
      cog::support::run_captured({"unshare", "--mount", "--propagation", "private", "sh", "-c", script});
  REQUIRE_MESSAGE(listing.exit_code == 0, listing.stderr_text);
  CHECK(listing.stdout_text == "etc:\nkeep\n\nusr/share/doc:\nnew\n");
}

TEST_CASE("too many layers for one overlay mount fall back to a merged root") {
  std::vector<fs::path> few(5, fs::path("/root/.cache/cog/rootfs/layers") / std::string(64, 'a'));
  CHECK(RootfsCache::fits_one_overlay(few));
  std::vector<fs::path> many(40, fs::path("/root/.cache/cog/rootfs/layers") / std::string(64, 'a'));
  CHECK_FALSE(RootfsCache::fits_one_overlay(many));
}
