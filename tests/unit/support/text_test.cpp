#include <doctest/doctest.h>

#include "support/text.hpp"

using namespace cog::support;

TEST_CASE("trim drops the blanks at both ends and only there") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim(" \t ") == "");
  CHECK(trim("") == "");
  CHECK(trim("\ra\r", " \t") == "\ra\r");
  CHECK(trim(" \fa\v ", " \t\r\f\v") == "a");
}

TEST_CASE("join puts the separator between items, empty ones included") {
  CHECK(join({}, ", ") == "");
  CHECK(join({"a"}, ", ") == "a");
  CHECK(join({"a", "b", "c"}, "/") == "a/b/c");
  CHECK(join({"", "b"}, "/") == "/b");
}
