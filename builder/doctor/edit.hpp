#pragma once
// The doctor's rewrites: whole files written atomically, and line edits of cog.yaml that keep
// everything else (comments, order, quoting) exactly as the user wrote it.
#include <filesystem>
#include <string>
#include <vector>

namespace cog::builder::doctor::edit {

// Writes text to a temporary file beside `file`, then renames it over `file`. Throws cog::Error(Io).
void write_file(const std::filesystem::path& file, const std::string& text);

// The text as lines, each keeping its '\n' (the last may lack one), and back.
std::vector<std::string> split_lines(const std::string& text);
std::string join_lines(const std::vector<std::string>& lines);

// The leading spaces of a line.
std::string indentation(const std::string& line);

// The lines (0-based, [first, last)) of the YAML entry whose key is on 1-based line `key_line`:
// the key line and every following line that is blank, more indented, or a `- ` item at the key's
// indentation; trailing blank lines are not included.
std::pair<std::size_t, std::size_t> yaml_entry_lines(const std::vector<std::string>& lines, int key_line);

}  // namespace cog::builder::doctor::edit
