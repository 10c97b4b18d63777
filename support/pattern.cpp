#include "support/pattern.hpp"

#include <algorithm>
#include <stdexcept>

namespace cog::support {

namespace {

using Instruction = Pattern::Instruction;
using Op = Instruction::Op;
using Ranges = std::vector<std::pair<char32_t, char32_t>>;

constexpr char32_t kMaxCodePoint = 0x10FFFF;
// Bounds that keep a hostile pattern from building a huge program: `(a{1000}){1000}` would
// otherwise expand to a million instructions. Such patterns go to std::regex instead.
constexpr int kMaxRepeat = 1000;
constexpr std::size_t kMaxProgram = 20000;
constexpr int kMaxNesting = 200;

// Thrown inside the compiler for constructs an automaton cannot match (backreferences,
// lookaround) or that would make the program too large: the pattern then uses std::regex.
struct Unsupported {};

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
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
    if (!valid) {
      out.push_back(0xDC00 + byte);  // keep undecodable bytes as distinct, unmatched-by-ranges values
      ++i;
    } else {
      out.push_back(value);
      i += length;
    }
  }
  return out;
}

Ranges complement(Ranges ranges) {
  std::sort(ranges.begin(), ranges.end());
  Ranges out;
  char32_t next = 0;
  for (const auto& [low, high] : ranges) {
    if (low > next) out.emplace_back(next, low - 1);
    if (high + 1 > next) next = high + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

const Ranges& digit_ranges() {
  static const Ranges kDigits{{'0', '9'}};
  return kDigits;
}
const Ranges& word_ranges() {
  static const Ranges kWord{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return kWord;
}
const Ranges& space_ranges() {
  static const Ranges kSpace{{'\t', '\r'}, {' ', ' '},       {0xA0, 0xA0},     {0x1680, 0x1680},
                             {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
                             {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
  return kSpace;
}

bool is_word(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

struct Node {
  enum class Kind { Empty, Char, Assert, Concat, Alternation, Repeat };
  Kind kind = Kind::Empty;
  Ranges ranges;
  bool negated = false;
  Op assertion = Op::AssertBegin;
  std::vector<Node> children;
  int min = 0;
  int max = -1;  // -1: unbounded
};

class Parser {
 public:
  explicit Parser(std::u32string pattern) : pattern_(std::move(pattern)) {}

  Node parse() {
    Node root = alternation(0);
    if (at_end()) return root;
    fail(pattern_[position_] == ')' ? "unmatched )" : "unexpected character");
  }

 private:
  [[noreturn]] void fail(const std::string& reason) {
    throw std::invalid_argument(reason + " at position " + std::to_string(position_));
  }
  bool at_end() const { return position_ >= pattern_.size(); }
  char32_t peek(std::size_t ahead = 0) const {
    return position_ + ahead < pattern_.size() ? pattern_[position_ + ahead] : 0;
  }

  Node alternation(int depth) {
    if (depth > kMaxNesting) fail("groups nested too deeply");
    Node first = concatenation(depth);
    if (peek() != '|') return first;
    Node node;
    node.kind = Node::Kind::Alternation;
    node.children.push_back(std::move(first));
    while (!at_end() && peek() == '|') {
      ++position_;
      node.children.push_back(concatenation(depth));
    }
    return node;
  }

  Node concatenation(int depth) {
    Node node;
    node.kind = Node::Kind::Concat;
    while (!at_end() && peek() != '|' && peek() != ')') node.children.push_back(repetition(depth));
    return node;
  }

  // `{n}`, `{n,}`, `{n,m}` at the current position; false (position unchanged) when the brace
  // is a literal, as ECMAScript's web-compatibility grammar allows.
  bool braces(int& min, int& max) {
    std::size_t start = position_;
    auto number = [&](int& out) {
      std::size_t digits = 0;
      long long value = 0;
      while (peek() >= '0' && peek() <= '9') {
        value = std::min<long long>(value * 10 + (peek() - '0'), 1000000);
        ++position_;
        ++digits;
      }
      out = static_cast<int>(value);
      return digits > 0;
    };
    ++position_;  // {
    if (!number(min)) {
      position_ = start;
      return false;
    }
    max = min;
    if (peek() == ',') {
      ++position_;
      if (!number(max)) max = -1;
    }
    if (peek() != '}') {
      position_ = start;
      return false;
    }
    ++position_;
    return true;
  }

  Node repetition(int depth) {
    char32_t c = peek();
    if (c == '*' || c == '+' || c == '?') fail("nothing to repeat");
    Node atom_node = atom(depth);
    while (!at_end()) {
      int min = 0;
      int max = -1;
      c = peek();
      if (c == '*') {
        ++position_;
      } else if (c == '+') {
        min = 1;
        ++position_;
      } else if (c == '?') {
        max = 1;
        ++position_;
      } else if (c == '{' && braces(min, max)) {
        if (max != -1 && max < min) fail("numbers out of order in {} quantifier");
        if (min > kMaxRepeat || max > kMaxRepeat) throw Unsupported{};
      } else {
        break;
      }
      if (peek() == '?') ++position_;  // lazy: same yes/no answer
      Node repeat;
      repeat.kind = Node::Kind::Repeat;
      repeat.min = min;
      repeat.max = max;
      repeat.children.push_back(std::move(atom_node));
      atom_node = std::move(repeat);
    }
    return atom_node;
  }

  static Node char_node(Ranges ranges, bool negated = false) {
    Node node;
    node.kind = Node::Kind::Char;
    node.ranges = std::move(ranges);
    node.negated = negated;
    return node;
  }

  static Node assert_node(Op op) {
    Node node;
    node.kind = Node::Kind::Assert;
    node.assertion = op;
    return node;
  }

  Node atom(int depth) {
    char32_t c = peek();
    ++position_;
    switch (c) {
      case '.':
        return char_node({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}, true);
      case '^':
        return assert_node(Op::AssertBegin);
      case '$':
        return assert_node(Op::AssertEnd);
      case '(':
        return group(depth);
      case '[':
        return char_class();
      case '\\':
        return escape_atom();
      default:
        return char_node({{c, c}});
    }
  }

  Node group(int depth) {
    if (peek() == '?') {
      if (peek(1) == ':') {
        position_ += 2;
      } else if (peek(1) == '<' && peek(2) != '=' && peek(2) != '!') {
        while (!at_end() && peek() != '>') ++position_;  // named group: the name does not matter
        if (at_end()) fail("unterminated group name");
        ++position_;
      } else {
        throw Unsupported{};  // lookahead / lookbehind
      }
    }
    Node inner = alternation(depth + 1);
    if (peek() != ')') fail("missing )");
    ++position_;
    return inner;
  }

  unsigned hex_digits(int count) {
    unsigned value = 0;
    for (int k = 0; k < count; ++k) {
      char32_t h = peek(k);
      int digit = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                                     : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
      if (digit < 0) return ~0U;
      value = value * 16 + digit;
    }
    position_ += count;
    return value;
  }

  // The ranges an escape stands for (after the backslash); `in_class` changes `\b`.
  Ranges escape_ranges(bool in_class) {
    if (at_end()) fail("\\ at end of pattern");
    char32_t c = peek();
    ++position_;
    switch (c) {
      case 'd': return digit_ranges();
      case 'D': return complement(digit_ranges());
      case 'w': return word_ranges();
      case 'W': return complement(word_ranges());
      case 's': return space_ranges();
      case 'S': return complement(space_ranges());
      case 't': return {{'\t', '\t'}};
      case 'n': return {{'\n', '\n'}};
      case 'r': return {{'\r', '\r'}};
      case 'f': return {{'\f', '\f'}};
      case 'v': return {{'\v', '\v'}};
      case 'b': return {{'\b', '\b'}};  // only reached inside a class
      case '0':
        if (peek() >= '0' && peek() <= '9') throw Unsupported{};  // legacy octal
        return {{0, 0}};
      case 'x':
      case 'u': {
        unsigned value = hex_digits(c == 'x' ? 2 : 4);
        if (value == ~0U) return {{c, c}};  // `\x` without digits is a literal x
        return {{value, value}};
      }
      case 'c':
        if ((peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z')) {
          char32_t letter = peek();
          ++position_;
          return {{letter % 32, letter % 32}};
        }
        --position_;
        return {{'\\', '\\'}};
      default:
        if (c >= '1' && c <= '9' && !in_class) throw Unsupported{};  // backreference
        if (c == 'k' && peek() == '<') throw Unsupported{};           // named backreference
        return {{c, c}};
    }
  }

  Node escape_atom() {
    if (peek() == 'b') {
      ++position_;
      return assert_node(Op::WordBoundary);
    }
    if (peek() == 'B') {
      ++position_;
      return assert_node(Op::NotWordBoundary);
    }
    return char_node(escape_ranges(false));
  }

  Node char_class() {
    bool negated = peek() == '^';
    if (negated) ++position_;
    Ranges ranges;
    bool first = true;
    while (true) {
      if (at_end()) fail("missing ]");
      char32_t c = peek();
      if (c == ']' && !first) break;
      if (c == ']' && first) {  // `[]` matches nothing, `[^]` anything (ECMAScript)
        break;
      }
      first = false;
      ++position_;
      Ranges item;
      bool single = true;
      if (c == '\\') {
        item = escape_ranges(true);
        single = item.size() == 1 && item[0].first == item[0].second;
      } else {
        item = {{c, c}};
      }
      if (single && peek() == '-' && peek(1) != ']' && peek(1) != 0) {
        std::size_t save = position_;
        ++position_;
        char32_t high_char = peek();
        ++position_;
        Ranges high = {{high_char, high_char}};
        if (high_char == '\\') high = escape_ranges(true);
        if (high.size() == 1 && high[0].first == high[0].second) {
          if (high[0].first < item[0].first) fail("range out of order in character class");
          ranges.emplace_back(item[0].first, high[0].first);
          continue;
        }
        position_ = save;  // `[\d-x]`: the dash is a literal
      }
      ranges.insert(ranges.end(), item.begin(), item.end());
    }
    ++position_;  // ]
    return char_node(std::move(ranges), negated);
  }

  std::u32string pattern_;
  std::size_t position_ = 0;
};

class Compiler {
 public:
  std::vector<Instruction> compile(const Node& root) {
    emit(root);
    push({Op::Match, {}, false, 0, 0});
    return std::move(program_);
  }

 private:
  int push(Instruction instruction) {
    if (program_.size() >= kMaxProgram) throw Unsupported{};
    program_.push_back(std::move(instruction));
    return static_cast<int>(program_.size()) - 1;
  }
  int here() const { return static_cast<int>(program_.size()); }

  void emit(const Node& node) {
    switch (node.kind) {
      case Node::Kind::Empty:
        return;
      case Node::Kind::Char:
        push({Op::Char, node.ranges, node.negated, 0, 0});
        return;
      case Node::Kind::Assert:
        push({node.assertion, {}, false, 0, 0});
        return;
      case Node::Kind::Concat:
        for (const auto& child : node.children) emit(child);
        return;
      case Node::Kind::Alternation: {
        std::vector<int> jumps;
        for (std::size_t i = 0; i + 1 < node.children.size(); ++i) {
          int split = push({Op::Split, {}, false, 0, 0});
          program_[split].next = here();
          emit(node.children[i]);
          jumps.push_back(push({Op::Jump, {}, false, 0, 0}));
          program_[split].alternate = here();
        }
        emit(node.children.back());
        for (int jump : jumps) program_[jump].next = here();
        return;
      }
      case Node::Kind::Repeat: {
        const Node& body = node.children[0];
        for (int i = 0; i < node.min; ++i) emit(body);
        if (node.max == -1) {
          int loop = push({Op::Split, {}, false, 0, 0});
          program_[loop].next = here();
          emit(body);
          push({Op::Jump, {}, false, loop, 0});
          program_[loop].alternate = here();
          return;
        }
        std::vector<int> splits;
        for (int i = node.min; i < node.max; ++i) {
          int split = push({Op::Split, {}, false, 0, 0});
          program_[split].next = here();
          splits.push_back(split);
          emit(body);
        }
        for (int split : splits) program_[split].alternate = here();
        return;
      }
    }
  }

  std::vector<Instruction> program_;
};

bool accepts(const Instruction& instruction, char32_t c) {
  bool in_ranges = std::any_of(instruction.ranges.begin(), instruction.ranges.end(),
                               [c](const auto& range) { return c >= range.first && c <= range.second; });
  return in_ranges != instruction.negated;
}

}  // namespace

Pattern::Pattern(const std::string& source) : source_(source) {
  try {
    program_ = Compiler().compile(Parser(decode_utf8(source)).parse());
  } catch (const Unsupported&) {
    program_.clear();
    try {
      fallback_.emplace(source, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument(e.what());
    }
  }
}

bool Pattern::search(std::string_view text_utf8) const {
  if (fallback_) return std::regex_search(text_utf8.begin(), text_utf8.end(), *fallback_);
  const std::u32string text = decode_utf8(text_utf8);
  const std::size_t length = text.size();
  // stamp[pc] == position + 1 when pc is already in the list being built for that position.
  std::vector<std::size_t> stamp(program_.size(), 0);
  std::vector<int> current;
  std::vector<int> next;
  std::vector<int> pending;
  bool matched = false;

  // Follows jumps, splits and assertions from pc at position; Char instructions land in list.
  auto add = [&](std::vector<int>& list, int start_pc, std::size_t position) {
    pending.push_back(start_pc);
    while (!pending.empty()) {
      int pc = pending.back();
      pending.pop_back();
      if (stamp[pc] == position + 1) continue;
      stamp[pc] = position + 1;
      const Instruction& instruction = program_[pc];
      bool before_is_word = position > 0 && is_word(text[position - 1]);
      bool after_is_word = position < length && is_word(text[position]);
      switch (instruction.op) {
        case Op::Match:
          matched = true;
          break;
        case Op::Char:
          list.push_back(pc);
          break;
        case Op::Jump:
          pending.push_back(instruction.next);
          break;
        case Op::Split:
          pending.push_back(instruction.alternate);
          pending.push_back(instruction.next);
          break;
        case Op::AssertBegin:
          if (position == 0) pending.push_back(pc + 1);
          break;
        case Op::AssertEnd:
          if (position == length) pending.push_back(pc + 1);
          break;
        case Op::WordBoundary:
          if (before_is_word != after_is_word) pending.push_back(pc + 1);
          break;
        case Op::NotWordBoundary:
          if (before_is_word == after_is_word) pending.push_back(pc + 1);
          break;
      }
    }
  };

  for (std::size_t position = 0; position <= length; ++position) {
    add(current, 0, position);  // unanchored: a match may start at any position
    if (matched) return true;
    if (position == length) break;
    for (int pc : current) {
      if (accepts(program_[pc], text[position])) add(next, pc + 1, position + 1);
    }
    if (matched) return true;
    current.swap(next);
    next.clear();
  }
  return matched;
}

}  // namespace cog::support
