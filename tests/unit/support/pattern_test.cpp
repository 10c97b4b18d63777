// The linear-time pattern matcher: agrees with std::regex (ECMAScript) where both work, and
// survives the long inputs that make std::regex overflow the stack.
#include <doctest/doctest.h>

#include <optional>
#include <random>
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
  const std::vector<std::string> patterns{"^[A-Za-z_][A-Za-z0-9_]*=.*$",
                                          "^[a-z0-9]+([._-][a-z0-9]+)*$",
                                          "abc",
                                          "^abc$",
                                          "a|b|c",
                                          "^(foo|bar)+$",
                                          "colou?r",
                                          "^\\d{3}-\\d{4}$",
                                          "^\\w+@\\w+\\.com$",
                                          "\\bcat\\b",
                                          "\\Bcat",
                                          "^[^0-9]*$",
                                          "^.{2,4}$",
                                          "^a{2,}$",
                                          "^(?:ab)*c?$",
                                          "[\\d-]+",
                                          "^[\\s\\S]*x",
                                          "^$",
                                          "x*",
                                          "^[a-c-e]+$",
                                          "\\x41\\u0042",
                                          "^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\$",
                                          "^\\D\\W\\S$",
                                          "[]",
                                          "[^]",
                                          "^(a|ab)(c|bcd)(d*)$",
                                          "^(https?|ftp)://[^\\s/$.?#].[^\\s]*$",
                                          "^-?\\d+(\\.\\d+)?$",
                                          "a.c"};
  const std::vector<std::string> texts{"",
                                       "a",
                                       "abc",
                                       "xabcx",
                                       "HELLO=world",
                                       "1BAD=x",
                                       "foo",
                                       "foobar",
                                       "color",
                                       "colour",
                                       "555-1234",
                                       "me@host.com",
                                       "a cat sat",
                                       "concat",
                                       "bobcat",
                                       "12345",
                                       "ab",
                                       "abcd",
                                       "aaaa",
                                       "a\nb",
                                       "AB",
                                       ".*+?()[]{}|\\",
                                       "x",
                                       "-12.5",
                                       "https://example.com/a",
                                       "abcd",
                                       "2024-05",
                                       "a_b",
                                       "model-weights",
                                       "Bad_Name",
                                       "a..b",
                                       "acd",
                                       "a c"};
  for (const auto& pattern : patterns) {
    Pattern compiled(pattern);
    for (const auto& text : texts) {
      CAPTURE(pattern);
      CAPTURE(text);
      CHECK(compiled.search(text) == reference(pattern, text));
    }
  }
}

TEST_CASE("agrees with std::regex on random ASCII patterns and texts") {
  // Pieces whose meaning RE2's syntax spells differently (`.`, `\s`, `[]`, braces, escapes)
  // next to plain ones, and lookaround/backreferences that take the std::regex path.
  const std::vector<std::string> atoms{
      "a",      "b",       ".",   "\\d",   "\\w",  "\\s",  "\\S",   "\\D", "\\W",   "[a-c]",  "[^a]",  "[\\s]", "[\\S]",
      "[^\\S]", "[]",      "[^]", "\\b",   "\\B",  "^",    "$",     "(",   ")",     "(?:",    "|",     "*",     "+",
      "?",      "*?",      "{2}", "{1,3}", "{,2}", "{2,}", "\\x41", "\\.", "[\\b]", "\\t",    "\\v",   "\\n",   "[a-]",
      "[-a]",   "[\\d-z]", "\\0", "}",     "]",    "\\\\", "\\-",   " ",   "\\r",   "(a)\\1", "(?=a)", "(?!b)"};
  const std::vector<std::string> pieces{"a", "b", "A", "\n", "\r", "\v", "\t",   " ",  "1", "_",
                                        "-", "{", "}", "]",  "\\", "\b", "\x01", "ab", "."};
  std::mt19937 random(15);
  int compared = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string pattern;
    for (int count = 1 + random() % 5; count > 0; --count) pattern += atoms[random() % atoms.size()];
    std::optional<std::regex> expected;
    std::optional<Pattern> compiled;
    try {
      expected.emplace(pattern, std::regex::ECMAScript);
      compiled.emplace(pattern);
    } catch (const std::exception&) {
      continue;  // both must accept it to compare; validity is checked below
    }
    for (int sample = 0; sample < 4; ++sample) {
      std::string text;
      for (int count = random() % 6; count > 0; --count) text += pieces[random() % pieces.size()];
      CAPTURE(pattern);
      CAPTURE(text);
      CHECK(compiled->search(text) == std::regex_search(text, *expected));
      ++compared;
    }
  }
  CHECK(compared > 40000);
}

TEST_CASE("ECMAScript meanings that RE2 spells differently") {
  CHECK(Pattern("^\\s$").search("\v"));  // RE2's \s lacks \v and non-ASCII spaces
  CHECK(Pattern("^\\s+$").search("\u00a0\u3000\ufeff"));
  CHECK_FALSE(Pattern("\\S").search("\u2028"));
  CHECK(Pattern("^[\\S]$").search("é"));
  CHECK_FALSE(Pattern("^.$").search("\r"));  // RE2's . stops only at \n
  CHECK_FALSE(Pattern("^.$").search("\u2028"));
  CHECK(Pattern("^\\q\\cJ[\\b]$").search("q\n\b"));  // identity escape, control letter, backspace
  CHECK(Pattern("^\\x41\\u00e9$").search("Aé"));
  CHECK(Pattern("^[^]$").search("\n"));
  CHECK_FALSE(Pattern("[]").search("a"));
  // RE2 searches from every byte offset, and between the two bytes of é `\B` would hold.
  CHECK_FALSE(Pattern("\\B").search("aéa"));
  CHECK_FALSE(Pattern("\\B").search("1\u00a0a"));
  CHECK(Pattern("\\B").search("ab"));
}

TEST_CASE("a quantifier with nothing to repeat is an error, as in ECMAScript") {
  for (const char* bad : {"{2}", "a**", "a{2}*", "(+)", "|?"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(Pattern{std::string(bad)}, std::invalid_argument);
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
  Pattern nested_counts("^(?:a{100}){20}$");  // RE2 also bounds nested counts
  CHECK(nested_counts.search(std::string(2000, 'a')));
  CHECK_FALSE(nested_counts.search(std::string(1999, 'a')));
}
