#pragma once
// pip requirements files (build.python_requirements) and python_packages items, classified into
// config::Requirement lines the build plan can rewrite (torch pins, index URLs, local artifacts).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/config/config.hpp"
#include "support/error.hpp"

namespace cog::builder::config {

// One logical requirement line before classification: the text (comment and continuations
// removed) and where it starts.
struct RequirementLine {
  std::string text;
  Location where;
};

// Reads a requirements file: comments (`#` at the start or after whitespace), blank lines,
// `\` continuations, `-r/--requirement other.txt` includes (relative to the including file,
// cycles rejected). Locations name the file relative to project_dir (`requirements.txt:3`).
// Throws cog::Errors listing every invalid line; cog::Error(NotFound) when the file is missing.
std::vector<Requirement> parse_requirements_file(const std::filesystem::path& file,
                                                 const std::filesystem::path& project_dir);

// The same, for text already in memory; `file` gives the label and the directory for includes.
std::vector<Requirement> parse_requirements_text(std::string_view text, const std::filesystem::path& file,
                                                 const std::filesystem::path& project_dir);

// Classifies lines that are already split (python_packages items, one requirement each).
// Appends one error per invalid line to errors.
std::vector<Requirement> classify_requirement_lines(const std::vector<RequirementLine>& lines,
                                                    const std::filesystem::path& project_dir,
                                                    std::vector<Error>& errors);

// PEP 503 normalised project name: lower case, runs of `-`, `_` and `.` become one `-`.
std::string normalize_project_name(std::string_view name);

// The archive suffixes Cog accepts for local artifacts (`.whl`, `.tar.gz`, ...).
const std::vector<std::string>& local_artifact_suffixes();

}  // namespace cog::builder::config
