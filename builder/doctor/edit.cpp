#include "builder/doctor/edit.hpp"

#include <fstream>
#include <system_error>

#include "support/error.hpp"

namespace cog::builder::doctor::edit {

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::path temporary = file;
  temporary += ".cog-doctor.tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw Error(ErrorKind::Io, file.string(), "cannot write the file", "check the directory's permissions");
    }
  }
  std::error_code error;
  // Keep the original's permissions (an executable script stays executable).
  auto status = std::filesystem::status(file, error);
  if (!error && std::filesystem::exists(status)) {
    std::filesystem::permissions(temporary, status.permissions(), error);
  }
  std::filesystem::rename(temporary, file, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw Error(ErrorKind::Io, file.string(), "cannot replace the file: " + error.message(),
                "check the directory's permissions");
  }
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size() - 1;
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line;
  return text;
}

std::string indentation(const std::string& line) {
  std::size_t count = 0;
  while (count < line.size() && line[count] == ' ') ++count;
  return line.substr(0, count);
}

namespace {

bool is_blank(const std::string& line) { return line.find_first_not_of(" \t\r\n") == std::string::npos; }

}  // namespace

std::pair<std::size_t, std::size_t> yaml_entry_lines(const std::vector<std::string>& lines, int key_line) {
  std::size_t first = static_cast<std::size_t>(key_line - 1);
  if (key_line < 1 || first >= lines.size()) return {0, 0};
  std::size_t key_indent = indentation(lines[first]).size();
  std::size_t last = first + 1;
  std::size_t end = last;  // past the last non-blank line of the entry
  for (; last < lines.size(); ++last) {
    const std::string& line = lines[last];
    if (is_blank(line)) continue;
    std::size_t indent = indentation(line).size();
    bool item_at_key_indent = indent == key_indent && line.compare(indent, 1, "-") == 0;
    if (indent <= key_indent && !item_at_key_indent) break;
    end = last + 1;
  }
  return {first, end};
}

}  // namespace cog::builder::doctor::edit
