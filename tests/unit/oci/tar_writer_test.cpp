#include <doctest/doctest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

#include <algorithm>

#include "builder/oci/tar_writer.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;
using cog::test::write_file;

static const char* const GOLDEN_TREE_DIFF_ID =
    "sha256:b2f744adabf0281bb5995e3374ebe19663d04a6d185229399989b28b8d76e2ec";

namespace {

void make_tree(const std::filesystem::path& root) {
  write_file(root / "b.txt", "bee\n");
  write_file(root / "a/one.txt", "one\n", 0600);
  write_file(root / "a/run.sh", "#!/bin/sh\necho hi\n", 0755);
  write_file(root / "z/deep/er/file", std::string(5000, 'z'));
  std::filesystem::create_symlink("a/one.txt", root / "link");
  ::link((root / "b.txt").c_str(), (root / "c-hardlink.txt").c_str());
  std::string long_name(120, 'n');
  write_file(root / "long" / long_name, "long\n");
  for (auto dir : {"a", "z", "z/deep", "z/deep/er", "long"}) ::chmod((root / dir).c_str(), 0755);
}

void set_mtime(const std::filesystem::path& file, time_t when) {
  struct timespec times[2] = {{when, 0}, {when, 0}};
  ::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

}  // namespace

TEST_CASE("tar: the same tree gives the same bytes, whatever the on-disk mtimes") {
  TempDir dir;
  make_tree(dir / "tree");
  LayerBlob first = write_layer_from_directory(dir / "tree", dir / "1.tar.gz");
  set_mtime(dir / "tree/b.txt", 1234567890);
  set_mtime(dir / "tree/a", 42);
  LayerBlob second = write_layer_from_directory(dir / "tree", dir / "2.tar.gz");
  CHECK(first.digest == second.digest);
  CHECK(first.diff_id == second.diff_id);
  CHECK(cog::test::read_file(dir / "1.tar.gz") == cog::test::read_file(dir / "2.tar.gz"));
  CHECK(first.digest == sha256_of_file(dir / "1.tar.gz"));
  CHECK(first.size == static_cast<std::int64_t>(std::filesystem::file_size(dir / "1.tar.gz")));
  CHECK(first.media_type == std::string(media_type::oci_layer_gzip));

  write_file(dir / "tree/b.txt", "changed\n");
  LayerBlob third = write_layer_from_directory(dir / "tree", dir / "3.tar.gz");
  CHECK(third.diff_id != first.diff_id);
}

TEST_CASE("tar: plain tar's digest is its diff_id, and gzip's header carries no name or time") {
  TempDir dir;
  make_tree(dir / "tree");
  LayerOptions plain;
  plain.compress = false;
  LayerBlob tar = write_layer_from_directory(dir / "tree", dir / "l.tar", plain);
  LayerBlob gz = write_layer_from_directory(dir / "tree", dir / "l.tar.gz");
  CHECK(tar.digest == tar.diff_id);
  CHECK(gz.diff_id == tar.diff_id);
  std::string header = cog::test::read_file(dir / "l.tar.gz").substr(0, 10);
  CHECK(static_cast<unsigned char>(header[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(header[3]) == 0);   // FLG: no name, no comment
  CHECK(header.substr(4, 4) == std::string(4, '\0'));  // MTIME 0
}

TEST_CASE("tar: entries are sorted, owned by root, unnamed, clamped, with links and long names") {
  TempDir dir;
  make_tree(dir / "tree");
  if (::geteuid() == 0) ::chown((dir / "tree/b.txt").c_str(), 1234, 5678);
  write_layer_from_directory(dir / "tree", dir / "l.tar.gz");
  auto items = cog::test::read_tar(dir / "l.tar.gz");
  std::vector<std::string> paths;
  for (const auto& item : items) paths.push_back(item.path);
  std::string long_name(120, 'n');
  std::vector<std::string> expected = {"a/",         "a/one.txt",     "a/run.sh",          "b.txt", "c-hardlink.txt",
                                       "link",       "long/",         "long/" + long_name, "z/",    "z/deep/",
                                       "z/deep/er/", "z/deep/er/file"};
  CHECK(paths == expected);
  for (const auto& item : items) {
    CAPTURE(item.path);
    CHECK(item.uid == 0);
    CHECK(item.gid == 0);
    CHECK(item.uname.empty());
    CHECK(item.gname.empty());
    CHECK(item.mtime == 0);
  }
  auto find = [&](const std::string& path) {
    return *std::find_if(items.begin(), items.end(), [&](auto& item) { return item.path == path; });
  };
  CHECK(find("a/one.txt").perm == 0600);
  CHECK(find("a/run.sh").perm == 0755);
  CHECK(find("link").link == "a/one.txt");
  CHECK(find("c-hardlink.txt").hardlink);  // "b.txt" sorts first and holds the bytes
  CHECK(find("c-hardlink.txt").link == "b.txt");
  CHECK(find("b.txt").content == "bee\n");
  CHECK(find("z/deep/er/file").content.size() == 5000);
  CHECK(find("long/" + long_name).content == "long\n");
}

TEST_CASE("tar: hard links point at the first path in sort order") {
  TempDir dir;
  write_file(dir / "tree/y", "same");
  ::link((dir / "tree/y").c_str(), (dir / "tree/x").c_str());
  write_layer_from_directory(dir / "tree", dir / "l.tar");
  auto items = cog::test::read_tar(dir / "l.tar");
  REQUIRE(items.size() == 2);
  CHECK(items[0].path == "x");
  CHECK(items[0].content == "same");
  CHECK(items[1].path == "y");
  CHECK(items[1].hardlink);
  CHECK(items[1].link == "x");
}

TEST_CASE("tar: prefix, exclude, SOURCE_DATE_EPOCH and preserved owners") {
  TempDir dir;
  make_tree(dir / "tree");
  write_file(dir / "tree/.git/config", "secret");
  write_file(dir / "tree/skip.log", "noise");
  set_mtime(dir / "tree/b.txt", 100);
  LayerOptions options;
  options.prefix = "/opt/src/";
  options.source_date_epoch = 1000;
  options.exclude = [](const std::string& path, bool) { return path == ".git" || path.ends_with(".log"); };
  if (::geteuid() == 0) {
    ::lchown((dir / "tree/b.txt").c_str(), 1234, 5678);
    options.preserve_owner = true;
  }
  write_layer_from_directory(dir / "tree", dir / "l.tar.gz", options);
  auto items = cog::test::read_tar(dir / "l.tar.gz");
  REQUIRE(items.size() >= 3);
  CHECK(items[0].path == "opt/");
  CHECK(items[1].path == "opt/src/");
  CHECK(items[1].perm == 0755);
  for (const auto& item : items) {
    CAPTURE(item.path);
    CHECK(item.path.starts_with("opt/"));
    CHECK(item.path.find(".git") == std::string::npos);
    CHECK(item.path.find(".log") == std::string::npos);
    CHECK(item.mtime <= 1000);
    if (item.path == "opt/src/b.txt") {
      CHECK(item.mtime == 100);  // older than the epoch: kept
      if (options.preserve_owner) CHECK(item.uid == 1234);
    }
  }
}

TEST_CASE("tar: the diff_id of a fixed tree is a golden value") {
  // Guards the byte format itself (header layout, PAX records, ordering): change it only on
  // purpose, since every cached layer and image digest would change with it.
  TempDir dir;
  make_tree(dir / "tree");
  LayerOptions options;
  options.compress = false;
  LayerBlob blob = write_layer_from_directory(dir / "tree", dir / "l.tar", options);
  CHECK(blob.diff_id.str() == GOLDEN_TREE_DIFF_ID);
}

TEST_CASE("tar: parallel gzip gives the same bytes for any thread count, and is valid gzip") {
  TempDir dir;
  std::string noisy(3 * 1024 * 1024 + 77, '\0');
  std::uint32_t state = 12345;
  for (auto& c : noisy) {
    state = state * 1103515245 + 12345;
    c = static_cast<char>((state >> 16) % 7 == 0 ? state >> 24 : 'a' + (state >> 20) % 4);
  }
  write_file(dir / "tree/noisy.bin", noisy);
  write_file(dir / "tree/zeros.bin", std::string(1024 * 1024, '\0'));
  LayerOptions one_thread, many_threads, plain;
  one_thread.compression_threads = 1;
  many_threads.compression_threads = 5;
  plain.compress = false;
  LayerBlob a = write_layer_from_directory(dir / "tree", dir / "a.tar.gz", one_thread);
  LayerBlob b = write_layer_from_directory(dir / "tree", dir / "b.tar.gz", many_threads);
  LayerBlob tar = write_layer_from_directory(dir / "tree", dir / "l.tar", plain);
  CHECK(a.digest == b.digest);
  CHECK(a.diff_id == tar.diff_id);
  CHECK(a.size < static_cast<std::int64_t>(noisy.size()));

  // zlib's own gzip reader (CRC and length checked) gives back exactly the plain tar.
  gzFile in = gzopen((dir / "b.tar.gz").c_str(), "rb");
  REQUIRE(in != nullptr);
  std::string inflated;
  char buffer[65536];
  int n = 0;
  while ((n = gzread(in, buffer, sizeof buffer)) > 0) inflated.append(buffer, static_cast<std::size_t>(n));
  int errnum = 0;
  gzerror(in, &errnum);
  CHECK(errnum == Z_OK);
  gzclose(in);
  CHECK(inflated == cog::test::read_file(dir / "l.tar"));
}
