#pragma once
// ECMAScript regular expressions as JSON Schema's `pattern` uses them, matched by RE2 in time
// linear in the text and without recursion on it: patterns and texts can both come from clients,
// so neither catastrophic backtracking nor libstdc++ std::regex's one-stack-frame-per-character
// recursion (a 100 kB prompt checked against `^.*$` crashes it) is acceptable.
//
// RE2's syntax is Perl's, not ECMAScript's, so pattern.cpp translates: `.`, `\s`/`\S`, `\uHHHH`,
// `\cX`, `[]`/`[^]`, literal braces (`a{,2}`), named groups and identity escapes (`\q`) mean
// what ECMAScript says. Two things an automaton cannot do fall back to std::regex (ECMAScript,
// backtracking): backreferences and lookaround, and counted repetitions past RE2's limit of 1000.
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace cog::support {

class Pattern {
 public:
  // Throws std::invalid_argument (with a reason) for a pattern that is not a valid regex.
  explicit Pattern(const std::string& source);
  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;
  ~Pattern();

  // Whether the pattern matches anywhere in text (JSON Schema patterns are not anchored).
  // Text is UTF-8; classes and `.` work on code points.
  bool search(std::string_view text) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::unique_ptr<re2::RE2> compiled_;
  std::optional<std::regex> fallback_;
};

}  // namespace cog::support
