// Layer directories laid out again as hard links: a second cache's copy of a layer shares every
// inode with the first, and a stack of layers merged into one root shows exactly what a real
// overlay mount of them shows, without following a lower layer's symlink out of the root. The
// rootfs cache takes a build's unpacked layer by diff ID instead of unpacking its blob again.
// Needs root (mknod, trusted xattrs, mount).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "builder/container/overlay_layer.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "builder/oci/image_builder.hpp"
#include "builder/oci/layout.hpp"
#include "support/subprocess.hpp"
#include "tests/unit/temp_dir.hpp"
#include "skip.hpp"

namespace fs = std::filesystem;
namespace oci = cog::builder::oci;
using cog::test::TempDir;
using cog::test::write_file;
using namespace cog::builder::container;

namespace {

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct stat lstat_of(const fs::path& path) {
  struct stat info {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &info) == 0, path.string());
  return info;
}

void whiteout(const fs::path& path) {
  fs::create_directories(path.parent_path());
  REQUIRE(::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) == 0);
}

void make_opaque(const fs::path& dir) { REQUIRE(::setxattr(dir.c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0); }

// Every path under `root` with its kind, sorted: the text two trees are compared by.
std::string listing(const fs::path& root) {
  const auto found = cog::support::run_captured(
      {"sh", "-c", "cd '" + root.string() + "' && find . -mindepth 1 -printf '%p %y %m\\n' | LC_ALL=C sort"});
  REQUIRE_MESSAGE(found.exit_code == 0, found.stderr_text);
  return found.stdout_text;
}

}  // namespace

TEST_CASE("a layer linked for a second cache shares every inode, whiteouts and opaque markers included") {
  if (geteuid() != 0) COG_SKIP("needs root");
  TempDir temp;
  const fs::path layer = temp.path / "layer", copy = temp.path / "copy";
  write_file(layer / "usr/bin/tool", "#!/bin/sh\n");
  fs::permissions(layer / "usr/bin/tool", fs::perms(0755));
  fs::create_symlink("usr/bin", layer / "bin");
  whiteout(layer / "etc/removed");
  fs::create_directories(layer / "var/cache/opaque");
  make_opaque(layer / "var/cache/opaque");
  fs::permissions(layer / "var/cache", fs::perms(01777));
  REQUIRE(::chown((layer / "var").c_str(), 1234, 5678) == 0);
  fs::create_directories(copy);

  link_layer_dir(layer, copy);

  CHECK(lstat_of(copy / "usr/bin/tool").st_ino == lstat_of(layer / "usr/bin/tool").st_ino);
  CHECK(lstat_of(layer / "usr/bin/tool").st_nlink == 2);
  CHECK(fs::read_symlink(copy / "bin") == "usr/bin");
  const auto removed = lstat_of(copy / "etc/removed");
  CHECK(S_ISCHR(removed.st_mode));
  CHECK(removed.st_rdev == makedev(0, 0));
  char value[4] = {};
  CHECK(::getxattr((copy / "var/cache/opaque").c_str(), "trusted.overlay.opaque", value, sizeof value) == 1);
  CHECK((lstat_of(copy / "var/cache").st_mode & 07777) == 01777);
  CHECK(lstat_of(copy / "var").st_uid == 1234);
  CHECK(lstat_of(copy / "var").st_gid == 5678);
  CHECK(lstat_of(copy / "var").st_mtim.tv_sec == lstat_of(layer / "var").st_mtim.tv_sec);
  // A directory is the copy's own: what goes into it does not appear in the layer.
  CHECK(lstat_of(copy / "usr").st_ino != lstat_of(layer / "usr").st_ino);
}

TEST_CASE("layers stacked into one root show what an overlay mount of them shows, nothing followed out") {
  if (geteuid() != 0) COG_SKIP("needs root");
  TempDir temp;
  const fs::path base = temp.path / "base", top = temp.path / "top", outside = temp.path / "outside";
  fs::create_directories(outside);
  write_file(base / "etc/keep", "kept\n");
  write_file(base / "etc/removed", "gone\n");
  write_file(base / "usr/share/doc/old", "old\n");
  write_file(base / "opt/was-a-file", "file\n");
  write_file(base / "srv/was-a-dir/inner", "inner\n");
  fs::create_symlink(outside, base / "lib");  // a lower symlink out of the root
  write_file(top / "etc/keep", "replaced\n");
  whiteout(top / "etc/removed");
  whiteout(top / "etc/never-existed");  // (in a directory only the top has, the kernel lists it)
  fs::create_directories(top / "usr/share/doc");
  make_opaque(top / "usr/share/doc");
  write_file(top / "usr/share/doc/new", "new\n");
  write_file(top / "opt/was-a-file/now-a-dir", "dir\n");
  write_file(top / "srv/was-a-dir", "now a file\n");
  write_file(top / "lib/libx.so", "library\n");  // a real directory over the symlink

  const fs::path root = temp.path / "root";
  fs::create_directories(root);
  stack_layer_dir(base, root);
  stack_layer_dir(top, root);

  CHECK(fs::is_empty(outside));
  CHECK(read(root / "etc/keep") == "replaced\n");
  CHECK(lstat_of(root / "etc/keep").st_ino == lstat_of(top / "etc/keep").st_ino);
  CHECK_FALSE(fs::exists(root / "etc/never-existed"));
  char value[4] = {};
  CHECK(::getxattr((root / "usr/share/doc").c_str(), "trusted.overlay.opaque", value, sizeof value) < 0);

  // The kernel's view of the same two layers, in a throwaway mount namespace.
  const fs::path merged = temp.path / "merged";
  fs::create_directories(merged);
  const fs::path copy = temp.path / "kernel-view";
  fs::create_directories(copy);
  const std::string script = "mount -t overlay overlay -o lowerdir=" + top.string() + ":" + base.string() + " " +
                             merged.string() + " && cp -a " + merged.string() + "/. " + copy.string();
  const auto mounted =
      cog::support::run_captured({"unshare", "--mount", "--propagation", "private", "sh", "-c", script});
  REQUIRE_MESSAGE(mounted.exit_code == 0, mounted.stderr_text);
  CHECK(listing(root) == listing(copy));
  CHECK(listing(root).find("./lib d") != std::string::npos);
}

TEST_CASE("the rootfs cache links a layer the build holds unpacked, and unpacks the blob when it cannot") {
  if (geteuid() != 0) COG_SKIP("needs root");
  TempDir temp;
  const fs::path tree = temp.path / "tree";
  write_file(tree / "app/model.bin", "weights\n");
  auto layout = oci::Layout::create(temp.path / "store");
  oci::ImageBuilder builder(layout);
  builder.from_scratch();
  const auto layer = builder.add_layer_from_directory(tree, {}, "test layer");
  const auto descriptor = builder.commit("linked:latest");
  const auto manifest = layout.read_manifest(descriptor.digest);
  const auto config = layout.read_config(manifest);

  SUBCASE("a donor on the same file system: its files are linked, not copied") {
    const fs::path donors = temp.path / "layer-dirs";
    write_file(donors / layer.diff_id.hex / "app/model.bin", "weights\n");
    RootfsCache cache(temp.path / "rootfs", {donors});
    const auto lowers = cache.ensure_layers(layout, manifest, config);
    REQUIRE(lowers.size() == 1);
    CHECK(lstat_of(lowers[0] / "app/model.bin").st_ino ==
          lstat_of(donors / layer.diff_id.hex / "app/model.bin").st_ino);

    // A merged root (what a --base-image inspection reads) links the same inode once more.
    const auto merged = cache.ensure(layout, manifest, config);
    REQUIRE(merged.size() == 1);
    CHECK(lstat_of(merged[0] / "app/model.bin").st_ino == lstat_of(lowers[0] / "app/model.bin").st_ino);
    CHECK(fs::exists(merged[0] / ".cog-complete"));
  }
  SUBCASE("a donor on another file system: the blob is unpacked, and nothing half-linked is left") {
    if (!fs::is_directory("/dev/shm")) COG_SKIP("no /dev/shm (tmpfs) for a second file system");
    TempDir shm_parent;  // under /tmp; the donor itself goes to tmpfs
    const fs::path donors = fs::path("/dev/shm") / ("cog-unit-donor-" + shm_parent.path.filename().string());
    write_file(donors / layer.diff_id.hex / "app/model.bin", "weights\n");
    RootfsCache cache(temp.path / "rootfs", {donors});
    const auto lowers = cache.ensure_layers(layout, manifest, config);
    const auto donor_inode = lstat_of(donors / layer.diff_id.hex / "app/model.bin").st_ino;
    fs::remove_all(donors);
    REQUIRE(lowers.size() == 1);
    CHECK(read(lowers[0] / "app/model.bin") == "weights\n");
    CHECK(lstat_of(lowers[0] / "app/model.bin").st_nlink == 1);
    CHECK(lstat_of(lowers[0] / "app/model.bin").st_ino != donor_inode);
    CHECK(fs::is_empty(temp.path / "rootfs/layers") == false);
    for (const auto& entry : fs::directory_iterator(temp.path / "rootfs/layers")) {
      CHECK_FALSE(entry.path().filename().string().starts_with(".unpack-"));
    }
  }
}
