#pragma once
// .dockerignore, with Docker's semantics: patterns are filepath.Match globs plus `**`, matched
// against the path relative to the context root (leading '/' and './' ignored), later patterns
// win, `!` re-includes, and a pattern matching a directory excludes everything under it.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cog::builder::pipeline {

class DockerIgnore {
 public:
  DockerIgnore() = default;
  explicit DockerIgnore(std::string_view file_text);
  // Reads <project>/.dockerignore when present; an absent file ignores nothing.
  static DockerIgnore for_project(const std::filesystem::path& project_dir);

  void add(std::string pattern);  // one line; `!` prefix re-includes
  // `relative_path` is '/'-separated, relative to the context root.
  bool excluded(std::string_view relative_path) const;

 private:
  struct Rule {
    std::vector<std::string> segments;
    bool include = false;
  };
  std::vector<Rule> rules_;
};

// One glob segment against one path segment (`*`, `?`, `[...]`, `\` escapes).
bool match_segment(std::string_view pattern, std::string_view name);

}  // namespace cog::builder::pipeline
