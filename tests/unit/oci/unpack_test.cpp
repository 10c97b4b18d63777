#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/oci/tar_writer.hpp"
#include "builder/oci/unpack.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TarBuilder;
using cog::test::TempDir;
using cog::test::write_file;
namespace fs = std::filesystem;

TEST_CASE("unpack: a written layer unpacks to the same tree") {
  TempDir dir;
  write_file(dir / "tree/bin/tool", "#!/bin/sh\n", 0755);
  write_file(dir / "tree/etc/conf", "conf");
  fs::create_symlink("../etc/conf", dir / "tree/bin/conf-link");
  ::link((dir / "tree/etc/conf").c_str(), (dir / "tree/etc/conf2").c_str());
  LayerBlob blob = write_layer_from_directory(dir / "tree", dir / "l.tar.gz");
  UnpackStats stats = apply_layer(blob.file, dir / "rootfs");
  CHECK(stats.entries == 6);
  CHECK(cog::test::read_file(dir / "rootfs/bin/tool") == "#!/bin/sh\n");
  CHECK((fs::status(dir / "rootfs/bin/tool").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK(fs::read_symlink(dir / "rootfs/bin/conf-link") == "../etc/conf");
  struct stat a {
  }, b{};
  ::stat((dir / "rootfs/etc/conf").c_str(), &a);
  ::stat((dir / "rootfs/etc/conf2").c_str(), &b);
  CHECK(a.st_ino == b.st_ino);
  CHECK(a.st_mtime == 0);

  // Layer it again over itself: replacing existing files works.
  apply_layer(blob.file, dir / "rootfs");
  CHECK(cog::test::read_file(dir / "rootfs/etc/conf2") == "conf");
}

TEST_CASE("unpack: whiteouts and opaque directories hide lower content") {
  TempDir dir;
  TarBuilder(dir / "lower.tar")
      .dir("etc")
      .file("etc/a", "a")
      .file("etc/b", "b")
      .dir("cache")
      .file("cache/old1", "1")
      .dir("cache/sub")
      .file("cache/sub/old2", "2");
  TarBuilder(dir / "upper.tar").file("etc/.wh.a", "").file("cache/.wh..wh..opq", "").file("cache/new", "n");
  apply_layer(dir / "lower.tar", dir / "rootfs");
  UnpackStats stats = apply_layer(dir / "upper.tar", dir / "rootfs");
  CHECK(stats.whiteouts == 2);
  CHECK_FALSE(fs::exists(dir / "rootfs/etc/a"));
  CHECK(fs::exists(dir / "rootfs/etc/b"));
  CHECK_FALSE(fs::exists(dir / "rootfs/cache/old1"));
  CHECK_FALSE(fs::exists(dir / "rootfs/cache/sub"));
  CHECK(cog::test::read_file(dir / "rootfs/cache/new") == "n");
  CHECK_FALSE(fs::exists(dir / "rootfs/etc/.wh.a"));
}

TEST_CASE("unpack: an opaque marker after new entries keeps the new entries") {
  TempDir dir;
  TarBuilder(dir / "lower.tar").dir("d").file("d/old", "o");
  TarBuilder(dir / "upper.tar").dir("d").file("d/-new", "n").file("d/.wh..wh..opq", "");
  apply_layer(dir / "lower.tar", dir / "rootfs");
  apply_layer(dir / "upper.tar", dir / "rootfs");
  CHECK(fs::exists(dir / "rootfs/d/-new"));
  CHECK_FALSE(fs::exists(dir / "rootfs/d/old"));
}

TEST_CASE("unpack: hostile paths never reach outside the root") {
  TempDir dir;
  fs::path outside = dir / "outside";
  write_file(outside / "victim", "intact");
  fs::path rootfs = dir / "rootfs";

  SUBCASE("'..' in a path is rejected") {
    TarBuilder(dir / "h.tar").file("../outside/victim", "pwned");
    CHECK_THROWS_AS(apply_layer(dir / "h.tar", rootfs), cog::Error);
    TarBuilder(dir / "h2.tar").file("a/../../outside/victim", "pwned");
    CHECK_THROWS_AS(apply_layer(dir / "h2.tar", rootfs), cog::Error);
  }
  SUBCASE("absolute paths land inside the root") {
    std::string target = (outside / "victim").string();
    TarBuilder(dir / "h.tar").file(target, "contained");
    apply_layer(dir / "h.tar", rootfs);
    CHECK(cog::test::read_file(rootfs / target.substr(1)) == "contained");
  }
  SUBCASE("an absolute symlink is resolved inside the root, not followed out") {
    TarBuilder(dir / "h.tar").symlink("escape", outside.string()).file("escape/victim", "pwned");
    apply_layer(dir / "h.tar", rootfs);
    CHECK(cog::test::read_file(rootfs / outside.string().substr(1) / "victim") == "pwned");
    CHECK(fs::is_symlink(rootfs / "escape"));
  }
  SUBCASE("a relative symlink climbing out is clamped at the root") {
    TarBuilder(dir / "h.tar").symlink("up", "../../../../../../../..").file("up/victim", "pwned");
    apply_layer(dir / "h.tar", rootfs);
    CHECK(cog::test::read_file(rootfs / "victim") == "pwned");
  }
  SUBCASE("a symlinked file is replaced, not written through") {
    TarBuilder(dir / "h.tar").symlink("f", (outside / "victim").string()).file("f", "pwned");
    apply_layer(dir / "h.tar", rootfs);
    CHECK(cog::test::read_file(rootfs / "f") == "pwned");
    CHECK_FALSE(fs::is_symlink(rootfs / "f"));
  }
  SUBCASE("hard links to outside files are rejected or contained") {
    TarBuilder(dir / "h.tar").hardlink("hl", (outside / "victim").string());
    CHECK_THROWS_AS(apply_layer(dir / "h.tar", rootfs), cog::Error);  // no such file inside
    TarBuilder(dir / "h2.tar").hardlink("hl", "../outside/victim");
    CHECK_THROWS_AS(apply_layer(dir / "h2.tar", rootfs), cog::Error);
    TarBuilder(dir / "h3.tar").symlink("esc", outside.string()).hardlink("hl", "esc/victim");
    CHECK_THROWS_AS(apply_layer(dir / "h3.tar", rootfs), cog::Error);
  }
  SUBCASE("whiteouts through a symlink or with '..' never delete outside") {
    TarBuilder(dir / "h.tar").symlink("esc", outside.string()).file("esc/.wh.victim", "");
    apply_layer(dir / "h.tar", rootfs);
    TarBuilder(dir / "h2.tar").file("../outside/.wh.victim", "");
    CHECK_THROWS_AS(apply_layer(dir / "h2.tar", rootfs), cog::Error);
    TarBuilder(dir / "h3.tar").dir("x").file("x/.wh...", "");
    CHECK_THROWS_AS(apply_layer(dir / "h3.tar", rootfs), cog::Error);
    TarBuilder(dir / "h4.tar").symlink("esc2", outside.string()).file("esc2/.wh..wh..opq", "");
    apply_layer(dir / "h4.tar", rootfs);
  }
  SUBCASE("a symlink loop is an error, not a hang") {
    TarBuilder(dir / "h.tar").symlink("a", "b").symlink("b", "a").file("a/x", "x");
    CHECK_THROWS_AS(apply_layer(dir / "h.tar", rootfs), cog::Error);
  }
  CHECK(cog::test::read_file(outside / "victim") == "intact");
  CHECK(fs::directory_iterator(outside) != fs::directory_iterator());
  CHECK(std::distance(fs::directory_iterator(outside), fs::directory_iterator()) == 1);
}

TEST_CASE("unpack: a corrupt layer is an error") {
  TempDir dir;
  write_file(dir / "junk.tar.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  CHECK_THROWS_AS(apply_layer(dir / "junk.tar.gz", dir / "rootfs"), cog::Error);
  CHECK_THROWS_AS(apply_layer(dir / "missing.tar", dir / "rootfs"), cog::Error);
}
