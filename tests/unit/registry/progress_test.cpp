#include <doctest/doctest.h>

#include <sstream>

#include "builder/registry/progress.hpp"

using namespace cog::builder::registry;

TEST_CASE("plain progress prints one line per finished blob and nothing while in flight") {
  std::ostringstream out;
  Progress progress(&out, /*live=*/false);
  auto first = progress.add("aaaaaaaaaaaa", 2'000'000);
  auto second = progress.add("bbbbbbbbbbbb", 10);
  progress.update(first, 1'000'000);
  CHECK(out.str().empty());
  progress.finish(second, "Layer already exists");
  progress.finish(first, "Pushed");
  CHECK(out.str() == "bbbbbbbbbbbb: Layer already exists\naaaaaaaaaaaa: Pushed\n");
}

TEST_CASE("live progress redraws its block in place") {
  std::ostringstream out;
  Progress progress(&out, /*live=*/true);
  auto id = progress.add("cccccccccccc", 1'500'000);
  progress.finish(id, "Pushed");
  CHECK(out.str().find("\033[1A") != std::string::npos);
  CHECK(out.str().find("cccccccccccc: 0 B / 1.5 MB") != std::string::npos);
  CHECK(out.str().rfind("cccccccccccc: Pushed\n") != std::string::npos);
}
