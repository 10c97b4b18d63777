#include <doctest/doctest.h>

#include "builder/exec/output.hpp"
#include "builder/exec/process.hpp"
#include "support/error.hpp"

using namespace cog::builder::exec;

TEST_CASE("line splitter: lines across chunks, CRLF, an unterminated tail") {
  std::vector<std::string> lines;
  LineSink sink = [&](Stream, std::string_view line) { lines.emplace_back(line); };
  LineSplitter splitter(Stream::Stdout, sink);
  splitter.feed("he");
  splitter.feed("llo\r\nwor");
  splitter.feed("ld\n\nlast");
  CHECK(lines == std::vector<std::string>{"hello", "world", ""});
  splitter.finish();
  CHECK(lines.back() == "last");
}

TEST_CASE("line splitter: an endless line is cut into bounded pieces") {
  std::vector<std::string> lines;
  LineSink sink = [&](Stream, std::string_view line) { lines.emplace_back(line); };
  LineSplitter splitter(Stream::Stderr, sink, 4);
  splitter.feed("abcdefghij\n");
  CHECK(lines == std::vector<std::string>{"abcd", "efgh", "ij"});
}

TEST_CASE("exec plan: bare names are looked up in the step's PATH, paths are used as given") {
  auto plan = make_exec_plan({"python3", "-c", "1"}, {"PATH=/opt/bin:/usr/bin"}, "");
  CHECK(plan.candidates == std::vector<std::string>{"/opt/bin/python3", "/usr/bin/python3"});
  CHECK(plan.workdir == "/");
  CHECK(plan.argv_ptrs.size() == 4);
  CHECK(plan.argv_ptrs.back() == nullptr);
  auto absolute = make_exec_plan({"/bin/sh"}, {}, "/src");
  CHECK(absolute.candidates == std::vector<std::string>{"/bin/sh"});
  auto defaulted = make_exec_plan({"ls"}, {}, "/");
  CHECK(defaulted.candidates.back() == "/bin/ls");
  CHECK_THROWS_AS(make_exec_plan({}, {}, "/"), cog::Error);
}
