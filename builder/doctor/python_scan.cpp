#include "builder/doctor/python_scan.hpp"

#include <cctype>

namespace cog::builder::doctor::python {

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string trim(std::string_view text) {
  std::size_t first = 0;
  while (first < text.size() && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  std::size_t last = text.size();
  while (last > first && std::isspace(static_cast<unsigned char>(text[last - 1]))) --last;
  return std::string(text.substr(first, last - first));
}

// Splits at commas outside brackets.
std::vector<std::string> split_top_level(std::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(text.substr(start)));
  return parts;
}

// Offset of the bracket closing the one at `open`, or npos.
std::size_t matching_close(std::string_view text, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    if (text[i] == '(' || text[i] == '[' || text[i] == '{') ++depth;
    if (text[i] == ')' || text[i] == ']' || text[i] == '}') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

std::string leading_name(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() && (is_name_char(text[end]) || text[end] == '.')) ++end;
  return std::string(text.substr(0, end));
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

std::string mask(std::string_view source) {
  std::string out(source);
  std::size_t i = 0;
  while (i < source.size()) {
    char c = source[i];
    if (c == '#') {
      while (i < source.size() && source[i] != '\n') out[i++] = ' ';
      continue;
    }
    if (c != '"' && c != '\'') {
      ++i;
      continue;
    }
    bool triple = source.substr(i, 3) == std::string(3, c);
    std::size_t quote_length = triple ? 3 : 1;
    std::size_t j = i + quote_length;
    while (j < source.size()) {
      if (source[j] == '\\' && j + 1 < source.size()) {
        out[j] = ' ';
        if (source[j + 1] != '\n') out[j + 1] = ' ';
        j += 2;
        continue;
      }
      if (triple ? source.substr(j, 3) == std::string(3, c) : source[j] == c) break;
      if (!triple && source[j] == '\n') break;  // an unterminated string ends with its line
      if (source[j] != '\n') out[j] = ' ';
      ++j;
    }
    i = j >= source.size() ? j : j + (source[j] == '\n' ? 0 : quote_length);
  }
  return out;
}

int line_at(std::string_view source, std::size_t offset) {
  int line = 1;
  for (std::size_t i = 0; i < offset && i < source.size(); ++i) line += source[i] == '\n' ? 1 : 0;
  return line;
}

std::vector<Statement> statements(std::string_view source) {
  std::string masked = mask(source);
  std::vector<Statement> result;
  std::size_t position = 0;
  int line = 1;
  while (position < masked.size()) {
    Statement statement;
    statement.begin = position;
    statement.line = line;
    int depth = 0;
    std::string code;
    std::size_t i = position;
    while (i < masked.size()) {
      char c = masked[i];
      if (c == '\n') {
        ++line;
        bool continued = depth > 0 || (!code.empty() && code.back() == '\\');
        if (!code.empty() && code.back() == '\\') code.pop_back();
        ++i;
        if (!continued) break;
        code += ' ';
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      if (c != '\r') code += c;
      ++i;
    }
    statement.end = i;
    position = i;
    std::size_t indent = 0;
    while (indent < code.size() && (code[indent] == ' ' || code[indent] == '\t')) ++indent;
    statement.indent = indent;
    statement.code = trim(code);
    if (!statement.code.empty()) result.push_back(statement);
  }
  return result;
}

std::vector<Import> imports(std::string_view source) {
  std::vector<Import> result;
  for (const auto& statement : statements(source)) {
    const std::string& code = statement.code;
    Import import;
    import.statement = statement;
    std::string names_text;
    if (starts_with(code, "from ")) {
      std::size_t keyword = code.find(" import ");
      if (keyword == std::string::npos) continue;
      import.is_from = true;
      import.module = trim(code.substr(5, keyword - 5));
      names_text = trim(code.substr(keyword + 8));
      if (!names_text.empty() && names_text.front() == '(') {
        names_text = names_text.substr(
            1, names_text.rfind(')') == std::string::npos ? std::string::npos : names_text.rfind(')') - 1);
      }
    } else if (starts_with(code, "import ")) {
      names_text = code.substr(7);
    } else {
      continue;
    }
    for (const auto& part : split_top_level(names_text)) {
      if (part.empty()) continue;
      ImportedName name;
      std::size_t as = part.find(" as ");
      name.name = trim(part.substr(0, as));
      if (as != std::string::npos) name.alias = trim(part.substr(as + 4));
      import.names.push_back(name);
    }
    result.push_back(import);
  }
  return result;
}

std::vector<ClassDef> classes(std::string_view source) {
  auto all = statements(source);
  std::vector<ClassDef> result;
  for (std::size_t k = 0; k < all.size(); ++k) {
    const std::string& code = all[k].code;
    if (!starts_with(code, "class ")) continue;
    ClassDef cls;
    cls.statement = all[k];
    std::string rest = trim(code.substr(6));
    cls.name = leading_name(rest);
    std::size_t open = rest.find('(');
    if (open != std::string::npos && open == cls.name.size()) {
      std::size_t close = matching_close(rest, open);
      if (close != std::string::npos) {
        for (const auto& base : split_top_level(rest.substr(open + 1, close - open - 1))) {
          if (!base.empty()) cls.bases.push_back(base);
        }
      }
    }
    cls.body_end = source.size();
    for (std::size_t next = k + 1; next < all.size(); ++next) {
      if (all[next].indent <= all[k].indent) {
        cls.body_end = all[next].begin;
        break;
      }
    }
    result.push_back(cls);
  }
  return result;
}

std::vector<FunctionDef> functions(std::string_view source) {
  std::vector<FunctionDef> result;
  for (const auto& statement : statements(source)) {
    std::string code = statement.code;
    std::size_t keyword = 0;
    if (starts_with(code, "async def ")) {
      keyword = 10;
    } else if (starts_with(code, "def ")) {
      keyword = 4;
    } else {
      continue;
    }
    FunctionDef function;
    function.statement = statement;
    std::string rest = code.substr(keyword);
    function.name = leading_name(rest);
    std::size_t open = rest.find('(');
    if (function.name.empty() || open == std::string::npos) continue;
    std::size_t close = matching_close(rest, open);
    if (close == std::string::npos) continue;
    function.returns_annotated = rest.find("->", close) != std::string::npos;
    // The name's offset in the source: the first `def` (or `async def`) on the statement's line.
    std::string masked = mask(source.substr(statement.begin, statement.end - statement.begin));
    std::size_t def = masked.find("def ");
    std::size_t name_start = def == std::string::npos ? 0 : def + 4;
    while (name_start < masked.size() && masked[name_start] == ' ') ++name_start;
    function.name_offset = statement.begin + name_start;
    // Lines of parameters: find each in the source's masked text after the `(`.
    std::size_t source_open = masked.find('(', name_start);
    for (const auto& part : split_top_level(rest.substr(open + 1, close - open - 1))) {
      if (part.empty() || part == "*" || part == "/") continue;
      Parameter parameter;
      std::string text = part;
      if (starts_with(text, "**")) {
        parameter.variadic = true;
        text = text.substr(2);
      } else if (starts_with(text, "*")) {
        parameter.variadic = true;
        text = text.substr(1);
      }
      parameter.name = leading_name(trim(text));
      int depth = 0;
      for (char c : text) {
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') --depth;
        if (c == '=' && depth == 0) break;
        if (c == ':' && depth == 0) parameter.annotated = true;
      }
      parameter.line = statement.line;
      if (source_open != std::string::npos) {
        std::size_t at = masked.find(parameter.name, source_open);
        if (at != std::string::npos) parameter.line = statement.line + line_at(masked, at) - 1;
      }
      function.parameters.push_back(parameter);
    }
    result.push_back(function);
  }
  return result;
}

std::vector<FunctionDef> methods_of(std::string_view source, const ClassDef& cls) {
  // The body's indentation is that of its first statement, which need not be a def.
  std::size_t body_indent = std::string::npos;
  for (const auto& statement : statements(source)) {
    if (statement.begin > cls.statement.begin && statement.begin < cls.body_end) {
      body_indent = statement.indent;
      break;
    }
  }
  std::vector<FunctionDef> result;
  for (auto& function : functions(source)) {
    const Statement& statement = function.statement;
    bool inside = statement.begin > cls.statement.begin && statement.begin < cls.body_end;
    if (inside && statement.indent == body_indent) result.push_back(function);
  }
  return result;
}

std::string rename(std::string_view source, std::string_view from, std::string_view to, int* count) {
  std::string masked = mask(source);
  std::string out;
  int renamed = 0;
  std::size_t i = 0;
  while (i < source.size()) {
    if (is_name_char(masked[i]) && (i == 0 || !is_name_char(masked[i - 1]))) {
      std::size_t end = i;
      while (end < masked.size() && is_name_char(masked[end])) ++end;
      if (std::string_view(masked).substr(i, end - i) == from) {
        out += to;
        ++renamed;
      } else {
        out += source.substr(i, end - i);
      }
      i = end;
      continue;
    }
    out += source[i++];
  }
  if (count) *count = renamed;
  return out;
}

}  // namespace cog::builder::doctor::python
