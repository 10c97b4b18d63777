#include "builder/config/runner_reference.hpp"

#include <cctype>
#include <vector>

namespace cog::builder::config {

namespace {

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

bool is_identifier(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])) != 0) return false;
  for (char c : text) {
    if (!is_identifier_char(c)) return false;
  }
  return true;
}

bool starts_with_word(std::string_view line, std::string_view word) {
  return line.substr(0, word.size()) == word && (line.size() == word.size() || !is_identifier_char(line[word.size()]));
}

// `name` as a whole word anywhere in the line.
bool mentions(std::string_view line, std::string_view name) {
  for (std::size_t at = line.find(name); at != std::string_view::npos; at = line.find(name, at + 1)) {
    bool left_ok = at == 0 || !is_identifier_char(line[at - 1]);
    bool right_ok = at + name.size() == line.size() || !is_identifier_char(line[at + name.size()]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

std::string_view strip_leading(std::string_view line) {
  std::size_t start = line.find_first_not_of(" \t");
  return start == std::string_view::npos ? std::string_view() : line.substr(start);
}

// `Name = …`, `Name: T = …`, `Name += …` but not `Name == …` (a comparison).
bool assigns(std::string_view line, std::string_view name) {
  if (!starts_with_word(line, name)) return false;
  std::string_view rest = strip_leading(line.substr(name.size()));
  if (rest.empty()) return false;
  if (rest[0] == ':') return true;
  return rest[0] == '=' && (rest.size() == 1 || rest[1] != '=');
}

bool defines_on_line(std::string_view line, std::string_view name) {
  if (starts_with_word(line, "async")) line = strip_leading(line.substr(5));
  for (std::string_view keyword : {std::string_view("class"), std::string_view("def")}) {
    if (starts_with_word(line, keyword)) {
      std::string_view rest = strip_leading(line.substr(keyword.size()));
      return starts_with_word(rest, name);
    }
  }
  return assigns(line, name);
}

}  // namespace

std::optional<RunnerReference> parse_runner_reference(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view file = text.substr(0, colon);
  std::string_view name = text.substr(colon + 1);
  if (file.size() <= 3 || file.substr(file.size() - 3) != ".py" || !is_identifier(name)) {
    return std::nullopt;
  }
  return RunnerReference{std::string(file), std::string(name)};
}

bool python_source_defines(std::string_view source, std::string_view name) {
  bool in_import_parentheses = false;
  bool in_top_level_block = false;  // inside a top-level if/try/with/else/except/finally
  std::size_t start = 0;
  while (start <= source.size()) {
    std::size_t end = source.find('\n', start);
    if (end == std::string_view::npos) end = source.size();
    std::string_view raw = source.substr(start, end - start);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    start = end + 1;

    std::string_view line = strip_leading(raw);
    if (line.empty() || line[0] == '#') continue;
    bool indented = line.size() != raw.size();
    if (in_import_parentheses) {
      if (mentions(line, name)) return true;
      if (line.find(')') != std::string_view::npos) in_import_parentheses = false;
      continue;
    }
    if (!indented) {
      in_top_level_block = false;
      for (std::string_view keyword : {"if", "try", "with", "else", "elif", "except", "finally"}) {
        in_top_level_block = in_top_level_block || starts_with_word(line, keyword);
      }
    }
    if (indented && !in_top_level_block) continue;
    bool is_import = starts_with_word(line, "import") || starts_with_word(line, "from");
    if (is_import) {
      if (mentions(line, name)) return true;
      in_import_parentheses = line.find('(') != std::string_view::npos && line.find(')') == std::string_view::npos;
      continue;
    }
    if (defines_on_line(line, name)) return true;
  }
  return false;
}

}  // namespace cog::builder::config
