#pragma once
// ECMAScript regular expressions as JSON Schema's `pattern` uses them, matched by an automaton
// (a Pike VM) in time linear in the text and without recursion on it. libstdc++'s std::regex
// recurses once per character and overflows the stack on long strings (a 100 kB prompt checked
// against `^.*$` crashes it), which a validator facing user input cannot afford.
//
// Supported: literals, `.`, classes `[a-z]` / `[^...]`, escapes `\d \w \s \D \W \S \b \B \t \n
// \r \f \v \0 \xHH \uHHHH`, anchors `^ $`, groups `( )` / `(?: )`, alternation `|`, quantifiers
// `* + ? {n} {n,} {n,m}` (greedy or lazy: the same for a yes/no match). Backreferences and
// lookaround cannot be matched by an automaton; patterns using them fall back to std::regex.
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace cog::support {

class Pattern {
 public:
  // Throws std::invalid_argument (with a reason) for a pattern that is not a valid regex.
  explicit Pattern(const std::string& source);

  // Whether the pattern matches anywhere in text (JSON Schema patterns are not anchored).
  // Text is UTF-8; classes and `.` work on code points.
  bool search(std::string_view text) const;

  const std::string& source() const { return source_; }

  // One automaton step; public only so the compiler in pattern.cpp can build programs.
  struct Instruction {
    enum class Op { Match, Char, Split, Jump, AssertBegin, AssertEnd, WordBoundary, NotWordBoundary };
    Op op = Op::Match;
    // Op::Char: the code point ranges it accepts (inclusive), or rejects when negated.
    std::vector<std::pair<char32_t, char32_t>> ranges;
    bool negated = false;
    int next = 0;       // Jump target; first branch of Split
    int alternate = 0;  // second branch of Split
  };

 private:
  std::string source_;
  std::vector<Instruction> program_;
  std::optional<std::regex> fallback_;
};

}  // namespace cog::support
