// doctest's main, with a guard: a run in which no test case matched the filters, or in which a case
// ran no assertion without saying why (COG_SKIP), fails. CTest runs each case alone by name
// (--test-case=NAME); a name CTest mangles matches nothing, and doctest alone would report that as
// success. A case that skipped exits with 77, which tests/CMakeLists.txt tells CTest means
// "Skipped"; its reason is printed and, when COG_SKIP_LOG names a file, appended there for the
// suite's closing summary (scripts/test.sh).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "skip.hpp"

namespace {

struct Tally {
  bool started = false;
  int cases = 0;
  std::string current;
  std::string skip_reason;
  std::vector<std::string> skipped;    // "NAME: REASON"
  std::vector<std::string> no_assert;  // names of cases that asserted nothing and did not skip
};

Tally& tally() {
  static Tally instance;
  return instance;
}

class Guard : public doctest::IReporter {
 public:
  explicit Guard(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override { tally().started = true; }
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override {
    tally().current = data.m_name;
    tally().skip_reason.clear();
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    Tally& t = tally();
    ++t.cases;
    if (!t.skip_reason.empty()) {
      t.skipped.push_back(t.current + ": " + t.skip_reason);
    } else if (stats.numAssertsCurrentTest == 0) {
      t.no_assert.push_back(t.current);
    }
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("cog-guard", 1, Guard);

void append_to_skip_log(const std::string& program, const std::string& line) {
  const char* log = std::getenv("COG_SKIP_LOG");
  if (log == nullptr || *log == '\0') return;
  std::ofstream(log, std::ios::app) << program << ": " << line << '\n';
}

}  // namespace

namespace cog::testing {
void skip_test_case(const std::string& reason) { tally().skip_reason = reason.empty() ? "skipped" : reason; }
}  // namespace cog::testing

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit() || !tally().started) return result;  // --help, --list-test-cases, ...
  const Tally& t = tally();
  const std::string program = argc > 0 ? std::string(argv[0]).substr(std::string(argv[0]).rfind('/') + 1) : "test";
  for (const auto& line : t.skipped) {
    std::printf("SKIPPED %s\n", line.c_str());
    append_to_skip_log(program, line);
  }
  if (result != 0) return result;
  if (t.cases == 0) {
    std::fprintf(stderr,
                 "error: no test case matched the filters, so nothing was tested (a test name "
                 "CTest split or changed? ';' in a TEST_CASE name does that)\n");
    return 1;
  }
  if (!t.no_assert.empty()) {
    for (const auto& name : t.no_assert)
      std::fprintf(stderr, "error: \"%s\" checked nothing: no assertion ran and it did not COG_SKIP\n", name.c_str());
    return 1;
  }
  if (static_cast<int>(t.skipped.size()) == t.cases) return 77;
  return 0;
}
