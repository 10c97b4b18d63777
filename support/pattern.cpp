#include "support/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cog::support {

namespace {

using Ranges = std::vector<std::pair<char32_t, char32_t>>;

constexpr char32_t kMaxCodePoint = 0x10FFFF;

// ECMAScript's line terminators (what `.` does not match) and white space (`\s`), which are
// wider than RE2's: RE2's `.` only stops at \n and its `\s` is ASCII without \v.
const Ranges kLineTerminators{{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};
const Ranges kSpace{{'\t', '\r'},     {' ', ' '},       {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
                    {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};

// Thrown by the translator for what only a backtracking engine can match: the pattern then
// goes to std::regex.
struct NeedsBacktracking {};

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    int length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    char32_t value = length == 1 ? byte : length == 2 ? byte & 0x1F : length == 3 ? byte & 0x0F : byte & 0x07;
    bool valid = length > 0 && i + length <= text.size();
    for (int k = 1; valid && k < length; ++k) {
      auto continuation = static_cast<unsigned char>(text[i + k]);
      valid = (continuation & 0xC0) == 0x80;
      value = (value << 6) | (continuation & 0x3F);
    }
    if (!valid) throw std::invalid_argument("the pattern is not valid UTF-8");
    out.push_back(value);
    i += length;
  }
  return out;
}

Ranges complement(Ranges ranges) {
  std::sort(ranges.begin(), ranges.end());
  Ranges out;
  char32_t next = 0;
  for (const auto& [low, high] : ranges) {
    if (low > next) out.emplace_back(next, low - 1);
    next = std::max<char32_t>(next, high + 1);
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

// One code point as an RE2 literal that means the same inside and outside a class.
std::string literal(char32_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
    return std::string(1, static_cast<char>(c));
  }
  if (c > ' ' && c < 0x7F) return std::string{'\\', static_cast<char>(c)};
  static const char* kHex = "0123456789abcdef";
  std::string digits;
  for (char32_t rest = c; digits.empty() || rest; rest >>= 4) digits.insert(digits.begin(), kHex[rest & 0xF]);
  return "\\x{" + digits + "}";
}

// The ranges as the inside of an RE2 class (without the brackets).
std::string class_body(const Ranges& ranges) {
  std::string body;
  for (const auto& [low, high] : ranges) body += low == high ? literal(low) : literal(low) + "-" + literal(high);
  return body;
}

// Rewrites an ECMAScript pattern in RE2's syntax, atom by atom; quantifiers, alternation,
// anchors, `\b`/`\B`, `\d`/`\w` and their negations mean the same in both and are copied.
class Translator {
 public:
  explicit Translator(std::string_view source) : pattern_(decode_utf8(source)) {}

  std::string translate() {
    while (!at_end()) {
      char32_t c = next();
      switch (c) {
        case '\\':
          escape();
          break;
        case '[':
          char_class();
          break;
        case '.':
          out_ += "[^" + class_body(kLineTerminators) + "]";
          break;
        case '(':
          group();
          break;
        case '{':
          brace();
          break;
        case ')':
          if (open_groups_-- == 0) throw std::invalid_argument("unmatched )");
          out_ += ')';
          break;
        case '*':
        case '+':
        case '?':
        case '|':
        case '^':
        case '$':
          out_ += static_cast<char>(c);
          break;
        default:
          out_ += literal(c);  // `]` and `}` alone are literals in ECMAScript
      }
    }
    if (open_groups_ > 0) throw std::invalid_argument("missing )");
    return out_;
  }

  // Whether the pattern has a `\B` outside classes (see Pattern::Pattern).
  bool uses_not_word_boundary() const { return uses_not_word_boundary_; }

 private:
  bool at_end() const { return position_ >= pattern_.size(); }
  char32_t peek(std::size_t ahead = 0) const {
    return position_ + ahead < pattern_.size() ? pattern_[position_ + ahead] : 0;
  }
  char32_t next() { return pattern_[position_++]; }
  static bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

  void group() {
    ++open_groups_;
    out_ += "(";
    if (peek() != '?') return;
    if (peek(1) == ':') {
      out_ += "?:";
      position_ += 2;
    } else if (peek(1) == '<' && peek(2) != '=' && peek(2) != '!') {
      // A named group: RE2 (2022) spells it (?P<name>); the name does not change a yes/no match.
      while (!at_end() && peek() != '>') ++position_;
      if (at_end()) throw std::invalid_argument("unterminated group name");
      ++position_;
    } else if (peek(1) == '=' || peek(1) == '!' || peek(1) == '<') {
      throw NeedsBacktracking{};  // lookahead / lookbehind
    } else {
      throw std::invalid_argument("invalid group");
    }
  }

  // `{n}`, `{n,}`, `{n,m}` are quantifiers; any other brace is a literal (ECMAScript's
  // web-compatibility grammar).
  void brace() {
    std::size_t end = position_;
    auto digits = [&] {
      std::size_t start = end;
      while (end < pattern_.size() && is_digit(pattern_[end])) ++end;
      return std::u32string(pattern_.substr(start, end - start));
    };
    std::u32string min = digits();
    std::u32string max = min;
    if (!min.empty() && end < pattern_.size() && pattern_[end] == ',') {
      ++end;
      max = digits();
    }
    if (min.empty() || end >= pattern_.size() || pattern_[end] != '}') {
      out_ += "\\{";
      return;
    }
    auto value = [](const std::u32string& number) { return std::stod(std::string(number.begin(), number.end())); };
    if (!max.empty() && value(max) < value(min)) throw std::invalid_argument("numbers out of order in {} quantifier");
    for (std::size_t i = position_ - 1; i <= end; ++i) out_ += static_cast<char>(pattern_[i]);  // ASCII
    position_ = end + 1;
  }

  // An escape outside a class (the backslash already read).
  void escape() {
    if (at_end()) throw std::invalid_argument("\\ at end of pattern");
    char32_t c = peek();
    if (c == 'B') uses_not_word_boundary_ = true;
    if (c == 'b' || c == 'B' || c == 'd' || c == 'D' || c == 'w' || c == 'W') {
      out_ += '\\';
      out_ += static_cast<char>(next());
    } else if (c == 's' || c == 'S') {
      ++position_;
      out_ += (c == 's' ? "[" : "[^") + class_body(kSpace) + "]";
    } else if ((c >= '1' && c <= '9') || (c == '0' && is_digit(peek(1))) || (c == 'k' && peek(1) == '<')) {
      throw NeedsBacktracking{};  // backreference (or legacy octal, which std::regex reads)
    } else {
      out_ += literal(escaped_code_point(false));
    }
  }

  // The code point a character escape stands for (after the backslash); `\b` is a backspace
  // inside a class.
  char32_t escaped_code_point(bool in_class) {
    char32_t c = next();
    switch (c) {
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return 0;
      case 'b':
        return in_class ? '\b' : 'b';
      case 'x':
      case 'u': {
        int count = c == 'x' ? 2 : 4;
        char32_t value = 0;
        for (int k = 0; k < count; ++k) {
          char32_t h = peek(k);
          int digit = is_digit(h)              ? h - '0'
                      : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                      : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                               : -1;
          if (digit < 0) return c;  // `\x` without its digits is a literal x
          value = value * 16 + digit;
        }
        position_ += count;
        return value;
      }
      case 'c':
        if ((peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z')) return next() % 32;
        --position_;  // `\c` without a letter: a backslash, then the c is read again
        return '\\';
      default:
        return c;  // identity escape: `\.` is a dot, `\q` a q
    }
  }

  // One class atom: a code point, or (for `\d \w \s` and their negations) a set of them.
  struct ClassAtom {
    std::optional<char32_t> single;
    std::string set;  // RE2 class body when not single
  };

  ClassAtom class_atom() {
    if (at_end()) throw std::invalid_argument("missing ]");
    char32_t c = next();
    if (c != '\\') return {c, {}};
    if (at_end()) throw std::invalid_argument("\\ at end of pattern");
    switch (peek()) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return {std::nullopt, std::string{'\\', static_cast<char>(next())}};
      case 's':
        ++position_;
        return {std::nullopt, class_body(kSpace)};
      case 'S':
        ++position_;
        return {std::nullopt, class_body(complement(kSpace))};
      default:
        return {escaped_code_point(true), {}};
    }
  }

  void char_class() {
    bool negated = peek() == '^';
    if (negated) ++position_;
    std::string body;
    while (true) {
      if (at_end()) throw std::invalid_argument("missing ]");
      if (peek() == ']') break;
      ClassAtom low = class_atom();
      if (low.single && peek() == '-' && peek(1) != ']' && peek(1) != 0) {
        std::size_t dash = position_++;
        ClassAtom high = class_atom();
        if (high.single) {
          if (*high.single < *low.single) throw std::invalid_argument("range out of order in character class");
          body += literal(*low.single) + "-" + literal(*high.single);
          continue;
        }
        position_ = dash;  // `[a-\d]`: the dash is a literal
      }
      body += low.single ? literal(*low.single) : low.set;
    }
    ++position_;  // ]
    // `[]` matches nothing and `[^]` anything in ECMAScript; RE2 has no empty class.
    if (body.empty()) {
      body = class_body({{0, kMaxCodePoint}});
      negated = !negated;
    }
    out_ += (negated ? "[^" : "[") + body + "]";
  }

  std::u32string pattern_;
  std::size_t position_ = 0;
  std::string out_;
  std::size_t open_groups_ = 0;
  bool uses_not_word_boundary_ = false;
};

}  // namespace

Pattern::Pattern(const std::string& source) : source_(source) {
  std::optional<std::string> translated;
  try {
    Translator translator(source);
    translated = translator.translate();
    // RE2 searches unanchored by trying every byte offset, and between two bytes of one UTF-8
    // character (neither a word byte) `\B` holds: `\B` would match any non-ASCII text. A
    // search that steps over whole characters keeps it to ECMAScript's code point positions.
    if (translator.uses_not_word_boundary()) translated = "^(?s:.)*?(?:" + *translated + ")";
  } catch (const NeedsBacktracking&) {
  }
  if (translated) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_never_capture(true);
    compiled_ = std::make_unique<re2::RE2>(*translated, options);
    if (compiled_->ok()) return;
    // RE2 refuses counts past 1000, even nested ones (`(a{100}){20}`); std::regex takes them.
    if (compiled_->error_code() != RE2::ErrorRepeatSize) throw std::invalid_argument(compiled_->error());
    compiled_.reset();
  }
  try {
    fallback_.emplace(source, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument(e.what());
  }
}

Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;
Pattern::~Pattern() = default;

bool Pattern::search(std::string_view text) const {
  if (fallback_) return std::regex_search(text.begin(), text.end(), *fallback_);
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *compiled_);
}

}  // namespace cog::support
