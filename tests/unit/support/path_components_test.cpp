#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/error.hpp"
#include "support/path_components.hpp"
#include "support/scratch_dir.hpp"

using namespace cog::support;

TEST_CASE("a path's names drop empty and '.' parts and keep '..'") {
  CHECK(path_components("/a//b/./c/") == std::vector<std::string>{"a", "b", "c"});
  CHECK(path_components("../etc/passwd") == std::vector<std::string>{"..", "etc", "passwd"});
  CHECK(path_components("").empty());
  CHECK(path_components("/").empty());
}

TEST_CASE("a scratch directory is new, under its parent, and gone afterwards") {
  namespace fs = std::filesystem;
  const fs::path parent = fs::temp_directory_path() / "cog-scratch-test" / "nested";
  fs::path seen;
  {
    ScratchDir first(parent, "work-");
    ScratchDir second(parent, "work-");
    CHECK(first.path != second.path);
    CHECK(first.path.parent_path() == parent);
    CHECK(first.path.filename().string().starts_with("work-"));
    CHECK(fs::is_directory(first.path));
    std::ofstream(first.path / "file") << "x";
    seen = first.path;
  }
  CHECK_FALSE(fs::exists(seen));
  fs::remove_all(parent.parent_path());
  const fs::path file = fs::temp_directory_path() / "cog-scratch-test-file";
  std::ofstream(file) << "not a directory";
  CHECK_THROWS_AS(make_unique_dir(file / "below", "x-"), cog::Error);
  fs::remove(file);
}
