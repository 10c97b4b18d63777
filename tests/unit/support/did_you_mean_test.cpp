#include <doctest/doctest.h>

#include "support/did_you_mean.hpp"

using cog::support::closest_match;
using cog::support::edit_distance;

TEST_CASE("edit distance counts insertions, deletions and substitutions") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("python_pakages", "python_packages") == 1);
  CHECK(edit_distance("gpu", "gpu") == 0);
  CHECK(edit_distance("bulid", "build") == 1);
  CHECK(edit_distance("ab", "ba") == 1);
}

TEST_CASE("closest match suggests plausible typos only") {
  std::vector<std::string> fields{"python_version", "python_packages", "python_requirements", "gpu",
                                  "cuda",           "system_packages"};
  CHECK(closest_match("python_pakages", fields) == "python_packages");
  CHECK(closest_match("pyhton_version", fields) == "python_version");
  CHECK(closest_match("gpus", fields) == "gpu");
  CHECK(closest_match("bulid", std::vector<std::string>{"build", "image", "run"}) == "build");
  CHECK(closest_match("system_package", fields) == "system_packages");
  CHECK_FALSE(closest_match("weights", fields).has_value());
  CHECK_FALSE(closest_match("x", fields).has_value());
  CHECK_FALSE(closest_match("gpu", std::vector<std::string>{}).has_value());
}
