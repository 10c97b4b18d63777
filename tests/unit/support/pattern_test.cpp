// The linear-time pattern matcher: agrees with std::regex (ECMAScript) where both work, and
// survives the long inputs that make std::regex overflow the stack.
#include <doctest/doctest.h>

#include <regex>

#include "support/pattern.hpp"

using cog::support::Pattern;

namespace {

// The answer std::regex gives, the reference for short inputs.
bool reference(const std::string& pattern, const std::string& text) {
  return std::regex_search(text, std::regex(pattern, std::regex::ECMAScript));
}

}  // namespace

TEST_CASE("agrees with std::regex on a table of patterns and texts") {
  const std::vector<std::string> patterns{
      "^[A-Za-z_][A-Za-z0-9_]*=.*$", "^[a-z0-9]+([._-][a-z0-9]+)*$", "abc", "^abc$", "a|b|c",
      "^(foo|bar)+$", "colou?r", "^\\d{3}-\\d{4}$", "^\\w+@\\w+\\.com$", "\\bcat\\b", "\\Bcat",
      "^[^0-9]*$", "^.{2,4}$", "^a{2,}$", "^(?:ab)*c?$", "[\\d-]+", "^[\\s\\S]*x", "^$", "x*",
      "^[a-c-e]+$", "\\x41\\u0042", "^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\$", "^\\D\\W\\S$",
      "[]", "[^]", "^(a|ab)(c|bcd)(d*)$", "^(https?|ftp)://[^\\s/$.?#].[^\\s]*$", "^-?\\d+(\\.\\d+)?$",
      "a.c"};
  const std::vector<std::string> texts{
      "", "a", "abc", "xabcx", "HELLO=world", "1BAD=x", "foo", "foobar", "color", "colour",
      "555-1234", "me@host.com", "a cat sat", "concat", "bobcat", "12345", "ab", "abcd", "aaaa",
      "a\nb", "AB", ".*+?()[]{}|\\", "x", "-12.5", "https://example.com/a", "abcd", "2024-05", "a_b",
      "model-weights", "Bad_Name", "a..b", "acd", "a c"};
  for (const auto& pattern : patterns) {
    Pattern compiled(pattern);
    for (const auto& text : texts) {
      CAPTURE(pattern);
      CAPTURE(text);
      CHECK(compiled.search(text) == reference(pattern, text));
    }
  }
}

TEST_CASE("long inputs are matched without recursion") {
  std::string long_value = "A=" + std::string(1000000, 'x');
  CHECK(Pattern("^[A-Za-z_][A-Za-z0-9_]*=.*$").search(long_value));
  CHECK_FALSE(Pattern("^[A-Za-z_][A-Za-z0-9_]*=.*y$").search(long_value));
  CHECK(Pattern("(a|aa)*b").search(std::string(100000, 'a') + "b"));
  CHECK_FALSE(Pattern("^(a|aa)*$").search(std::string(100000, 'a') + "b"));
}

TEST_CASE("a brace that is not a quantifier is a literal (ECMAScript web grammar)") {
  CHECK(Pattern("a{,2}").search("xa{,2}"));
  CHECK_FALSE(Pattern("a{,2}").search("aa"));
  CHECK(Pattern("^{}$").search("{}"));
}

TEST_CASE("named groups match like plain groups (std::regex lacks them)") {
  Pattern date("^(?<year>\\d{4})-(?<month>\\d{2})$");
  CHECK(date.search("2024-05"));
  CHECK_FALSE(date.search("2024-5"));
}

TEST_CASE("classes and dot work on code points, not bytes") {
  CHECK(Pattern("^.$").search("é"));
  CHECK(Pattern("^[à-ÿ]+$").search("éèü"));
  CHECK_FALSE(Pattern("^[a-z]+$").search("é"));
  CHECK(Pattern("^\\u00e9$").search("é"));
}

TEST_CASE("backreferences and lookaround fall back to std::regex") {
  CHECK(Pattern("(a)\\1").search("xaa"));
  CHECK_FALSE(Pattern("(a)\\1").search("ab"));
  CHECK(Pattern("foo(?=bar)").search("foobar"));
  CHECK_FALSE(Pattern("foo(?!bar)").search("foobar"));
}

TEST_CASE("invalid patterns are rejected with a reason") {
  for (const char* bad : {"(", "(abc", "abc)", "[abc", "*a", "a{3,2}", "[z-a]", "\\"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(Pattern{std::string(bad)}, std::invalid_argument);
  }
}

TEST_CASE("huge counted repetitions do not build huge programs") {
  // Too big for the automaton and for std::regex: refused instead of exhausting memory.
  CHECK_THROWS_AS(Pattern{std::string("^(a{1000}){1000}$")}, std::invalid_argument);
  Pattern long_count("^a{1500}$");  // past the automaton's bound: std::regex handles it
  CHECK(long_count.search(std::string(1500, 'a')));
  CHECK_FALSE(long_count.search(std::string(1499, 'a')));
  CHECK(Pattern("^a{3}$").search("aaa"));
}
