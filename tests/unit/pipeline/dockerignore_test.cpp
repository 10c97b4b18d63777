#include <doctest/doctest.h>

#include "builder/pipeline/dockerignore.hpp"

using cog::builder::pipeline::DockerIgnore;
using cog::builder::pipeline::match_segment;

TEST_CASE("glob segments") {
  CHECK(match_segment("*.py", "run.py"));
  CHECK_FALSE(match_segment("*.py", "run.pyc"));
  CHECK(match_segment("ru?.py", "run.py"));
  CHECK(match_segment("[a-c]at", "bat"));
  CHECK_FALSE(match_segment("[!a-c]at", "bat"));
  CHECK(match_segment("\\*", "*"));
  CHECK_FALSE(match_segment("\\*", "x"));
}

TEST_CASE("the init template's .dockerignore") {
  DockerIgnore ignore("**/.git\n__pycache__\n/venv\n# a comment\n\n.python-version\n");
  CHECK(ignore.excluded(".git"));
  CHECK(ignore.excluded(".git/config"));
  CHECK(ignore.excluded("sub/dir/.git/HEAD"));
  CHECK(ignore.excluded("__pycache__/x.pyc"));
  CHECK_FALSE(ignore.excluded("sub/__pycache__/x.pyc"));  // no ** : only at the root, as Docker
  CHECK(ignore.excluded("venv/bin/python"));
  CHECK_FALSE(ignore.excluded("run.py"));
  CHECK_FALSE(ignore.excluded("a comment"));
}

TEST_CASE("later patterns win and ! re-includes") {
  DockerIgnore ignore("*.md\n!README.md\ndata/*\n!data/keep.bin\n");
  CHECK(ignore.excluded("NOTES.md"));
  CHECK_FALSE(ignore.excluded("README.md"));
  CHECK(ignore.excluded("data/big.bin"));
  CHECK_FALSE(ignore.excluded("data/keep.bin"));
  CHECK_FALSE(ignore.excluded("data"));
}

TEST_CASE("./ and leading slashes are ignored, ** spans directories") {
  DockerIgnore ignore("./build\n/tmp/**/*.log\n");
  CHECK(ignore.excluded("build/out.o"));
  CHECK(ignore.excluded("tmp/a/b/c.log"));
  CHECK(ignore.excluded("tmp/c.log"));
  CHECK_FALSE(ignore.excluded("tmp/c.txt"));
}
