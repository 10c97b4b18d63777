#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "builder/oci/overlay_layer.hpp"
#include "helpers.hpp"
#include "skip.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;
using cog::test::write_file;

namespace {

std::vector<std::string> paths_of(const std::filesystem::path& tar) {
  std::vector<std::string> paths;
  for (const auto& item : cog::test::read_tar(tar)) paths.push_back(item.path);
  return paths;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

TEST_CASE("overlay: whiteout devices and opaque directories become .wh. entries") {
  if (::geteuid() != 0) COG_SKIP("mknod of a 0/0 char device and trusted.* xattrs need root");
  TempDir dir;
  auto upper = dir / "upper";
  write_file(upper / "etc/new.conf", "new\n");
  REQUIRE(::mknod((upper / "etc/gone.conf").c_str(), S_IFCHR | 0000, makedev(0, 0)) == 0);
  std::filesystem::create_directories(upper / "var/cache");
  write_file(upper / "var/cache/fresh", "x");
  bool opaque_set = ::setxattr((upper / "var/cache").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0;
  REQUIRE(opaque_set);

  LayerBlob blob = write_layer_from_overlay(upper, dir / "l.tar");
  auto paths = paths_of(blob.file);
  CHECK(contains(paths, "etc/.wh.gone.conf"));
  CHECK_FALSE(contains(paths, "etc/gone.conf"));
  CHECK(contains(paths, "etc/new.conf"));
  CHECK(contains(paths, "var/cache/.wh..wh..opq"));
  CHECK(contains(paths, "var/cache/fresh"));
  CHECK(std::is_sorted(paths.begin(), paths.end()));
  // The overlay's own xattrs never leak into the layer, even with xattrs on.
  LayerOptions with_xattrs;
  with_xattrs.xattrs = true;
  auto entries = collect_overlay_entries(upper, with_xattrs);
  for (const auto& entry : entries) CHECK(entry.xattrs.count("trusted.overlay.opaque") == 0);
}

TEST_CASE("overlay: a real overlayfs mount's upper dir captures deletes and replacements") {
  if (::geteuid() != 0) COG_SKIP("mounting overlayfs needs root");
  TempDir dir;
  write_file(dir / "lower/keep.txt", "keep");
  write_file(dir / "lower/remove.txt", "remove");
  write_file(dir / "lower/olddir/a", "a");
  write_file(dir / "lower/olddir/b", "b");
  for (auto sub : {"upper", "work", "merged"}) std::filesystem::create_directories(dir / sub);
  std::string options = "lowerdir=" + (dir / "lower").string() + ",upperdir=" + (dir / "upper").string() +
                        ",workdir=" + (dir / "work").string();
  if (::mount("overlay", (dir / "merged").c_str(), "overlay", 0, options.c_str()) != 0) {
    COG_SKIP("overlayfs is not mountable here");
  }
  std::filesystem::remove(dir / "merged/remove.txt");
  std::filesystem::remove_all(dir / "merged/olddir");
  std::filesystem::create_directories(dir / "merged/olddir");
  write_file(dir / "merged/olddir/c", "c");
  write_file(dir / "merged/added.txt", "added");
  ::umount((dir / "merged").c_str());

  auto paths = paths_of(write_layer_from_overlay(dir / "upper", dir / "l.tar").file);
  CHECK(contains(paths, ".wh.remove.txt"));
  CHECK(contains(paths, "added.txt"));
  CHECK(contains(paths, "olddir/.wh..wh..opq"));
  CHECK(contains(paths, "olddir/c"));
  CHECK_FALSE(contains(paths, "keep.txt"));
  CHECK_FALSE(contains(paths, "olddir/a"));
}
