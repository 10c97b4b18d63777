#include <doctest/doctest.h>

#include "support/human_size.hpp"

using cog::support::human_size;
using cog::support::SizeStyle;

TEST_CASE("progress sizes have one decimal and a space") {
  CHECK(human_size(12) == "12 B");
  CHECK(human_size(340'000) == "340.0 kB");
  CHECK(human_size(1'234'567) == "1.2 MB");
}

TEST_CASE("listing sizes read like `docker images`") {
  CHECK(human_size(12, SizeStyle::Listing) == "12B");
  CHECK(human_size(97'600'000, SizeStyle::Listing) == "97.6MB");
  CHECK(human_size(340'000, SizeStyle::Listing) == "340kB");
  CHECK(human_size(2'500'000'000, SizeStyle::Listing) == "2.5GB");
}
