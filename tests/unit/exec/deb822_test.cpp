#include <doctest/doctest.h>

#include <sstream>

#include "builder/exec/deb822.hpp"

using namespace cog::builder::exec;

TEST_CASE("deb822 paragraphs: lower-cased fields, continuation lines and comments skipped") {
  std::istringstream in(
      "# a comment\n"
      "Types: deb\n"
      "URIs: http://deb.debian.org/debian\n"
      "Suites: bookworm bookworm-updates\r\n"
      "\n"
      " \t\n"
      "Package: tini\n"
      "Status: install ok installed\n"
      "Description: a tiny init\n"
      " that reaps zombies\n"
      " .\n"
      "Version: 0.19.0-1\n");
  const auto paragraphs = read_deb822(in);
  REQUIRE(paragraphs.size() == 2);
  CHECK(paragraphs[0].at("uris") == "http://deb.debian.org/debian");
  CHECK(paragraphs[0].at("suites") == "bookworm bookworm-updates");
  CHECK(paragraphs[0].count("# a comment") == 0);
  CHECK(paragraphs[1].at("package") == "tini");
  CHECK(paragraphs[1].at("description") == "a tiny init");
  CHECK(paragraphs[1].at("version") == "0.19.0-1");
}
