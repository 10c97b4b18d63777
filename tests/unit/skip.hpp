// A real skip for doctest cases that need something this machine may not have (root, a tool, a base
// image): the case stops, says why, and is reported as skipped (CTest's "Skipped", exit code 77 from
// tests/unit/doctest_main.cpp) instead of passing silently with no assertion.
//
//     if (!have("skopeo")) COG_SKIP("skopeo is not installed");
#pragma once

#include <string>

namespace cog::testing {

// Records why the running test case is skipped; the caller returns right after (COG_SKIP does).
void skip_test_case(const std::string& reason);

}  // namespace cog::testing

#define COG_SKIP(reason)                    \
  do {                                      \
    ::cog::testing::skip_test_case(reason); \
    return;                                 \
  } while (0)
