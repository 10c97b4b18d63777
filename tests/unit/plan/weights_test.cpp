// Weight detection for --separate-weights on a real (temporary) directory tree.
#include <doctest/doctest.h>

#include <fstream>

#include "builder/plan/weights.hpp"

namespace fs = std::filesystem;
namespace plan = cog::builder::plan;

namespace {

void make_file(const fs::path& path, std::uintmax_t size) {
  fs::create_directories(path.parent_path());
  std::ofstream(path).put('x');
  fs::resize_file(path, size);
}

}  // namespace

TEST_CASE("large non-code files are weights, grouped by directory") {
  auto root = fs::temp_directory_path() / "cog-plan-weights-test";
  fs::remove_all(root);
  const auto big = plan::kWeightMinSize;
  make_file(root / "root.ckpt", big);
  make_file(root / "small.bin", big - 1);
  make_file(root / "models/a.safetensors", big);
  make_file(root / "models/deep/b.bin", big);
  make_file(root / "mixed/c.bin", big);
  make_file(root / "mixed/helper.py", 10);
  make_file(root / "media/clip.MP4", big);
  make_file(root / ".git/objects/pack.bin", big);
  make_file(root / ".cog/cache/x.bin", big);

  auto weights = plan::find_weights(root);
  CHECK(weights.dirs == std::vector<std::string>{"models"});
  CHECK(weights.files == std::vector<std::string>{"root.ckpt"});
  CHECK(plan::weights_exclude_patterns(weights) == std::vector<std::string>{"models", "models/**/*", "root.ckpt"});
  fs::remove_all(root);
}
