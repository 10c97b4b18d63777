#include "builder/pipeline/dockerignore.hpp"

#include <sstream>

#include "support/text_file.hpp"

namespace cog::builder::pipeline {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    start = end + 1;
  }
  return parts;
}

// Does the pattern match the path itself or one of its parent directories? A pattern that
// matches a directory excludes what is inside it, so only the pattern has to be used up.
bool match_prefix(const std::vector<std::string>& pattern, size_t p, const std::vector<std::string>& path, size_t i) {
  if (p == pattern.size()) return i <= path.size();
  if (pattern[p] == "**") {
    for (size_t skip = i; skip <= path.size(); ++skip) {
      if (match_prefix(pattern, p + 1, path, skip)) return true;
    }
    return false;
  }
  if (i == path.size()) return false;
  return match_segment(pattern[p], path[i]) && match_prefix(pattern, p + 1, path, i + 1);
}

bool match_class(std::string_view pattern, size_t& p, char c) {
  // pattern[p] == '['
  ++p;
  bool negate = p < pattern.size() && (pattern[p] == '^' || pattern[p] == '!');
  if (negate) ++p;
  bool matched = false;
  bool first = true;
  while (p < pattern.size() && (first || pattern[p] != ']')) {
    first = false;
    char low = pattern[p];
    if (low == '\\' && p + 1 < pattern.size()) low = pattern[++p];
    char high = low;
    if (p + 2 < pattern.size() && pattern[p + 1] == '-' && pattern[p + 2] != ']') {
      high = pattern[p + 2];
      if (high == '\\' && p + 3 < pattern.size()) {
        high = pattern[p + 3];
        ++p;
      }
      p += 2;
    }
    if (low <= c && c <= high) matched = true;
    ++p;
  }
  if (p < pattern.size()) ++p;  // the closing ']'
  return matched != negate;
}

}  // namespace

bool match_segment(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0;
  size_t star_p = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_n = n;
      continue;
    }
    if (p < pattern.size()) {
      size_t next = p;
      bool ok = false;
      if (pattern[p] == '?') {
        ok = true;
        next = p + 1;
      } else if (pattern[p] == '[') {
        ok = match_class(pattern, next, name[n]);
      } else {
        char expected = pattern[p];
        next = p + 1;
        if (expected == '\\' && p + 1 < pattern.size()) {
          expected = pattern[p + 1];
          next = p + 2;
        }
        ok = expected == name[n];
      }
      if (ok) {
        p = next;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

DockerIgnore::DockerIgnore(std::string_view file_text) {
  std::istringstream lines{std::string(file_text)};
  std::string line;
  while (std::getline(lines, line)) add(line);
}

DockerIgnore DockerIgnore::for_project(const std::filesystem::path& project_dir) {
  return DockerIgnore(support::read_text_file(project_dir / ".dockerignore"));
}

void DockerIgnore::add(std::string pattern) {
  while (!pattern.empty() && (pattern.back() == '\r' || pattern.back() == ' ' || pattern.back() == '\t')) {
    pattern.pop_back();
  }
  size_t start = pattern.find_first_not_of(" \t");
  if (start == std::string::npos || pattern[start] == '#') return;
  pattern = pattern.substr(start);
  Rule rule;
  if (pattern[0] == '!') {
    rule.include = true;
    pattern = pattern.substr(1);
  }
  rule.segments = split_path(pattern);
  if (rule.segments.empty()) return;
  rules_.push_back(std::move(rule));
}

bool DockerIgnore::excluded(std::string_view relative_path) const {
  const auto path = split_path(relative_path);
  bool excluded = false;
  for (const auto& rule : rules_) {
    if (match_prefix(rule.segments, 0, path, 0)) excluded = !rule.include;
  }
  return excluded;
}

}  // namespace cog::builder::pipeline
