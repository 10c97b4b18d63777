// Reading pip requirements files into logical lines: comments, continuations and -r includes.
// Classification of each line lives in requirements_line.cpp.
#include <fstream>
#include <set>
#include <sstream>

#include "builder/config/requirements.hpp"
#include "support/text.hpp"

namespace cog::builder::config {

namespace {

// Nested -r includes deeper than this are a mistake, not a layout anybody needs.
constexpr int kMaxIncludeDepth = 32;
// A requirements file bigger than this is not a requirements file.
constexpr std::uintmax_t kMaxFileBytes = 16 * 1024 * 1024;

// pip drops `#` comments that start a line or follow whitespace (a URL's `#egg=` stays).
std::string strip_comment(const std::string& line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

std::string label_for(const std::filesystem::path& file, const std::filesystem::path& project_dir) {
  std::error_code error;
  auto relative = std::filesystem::relative(file, project_dir, error);
  if (!error && !relative.empty() && *relative.begin() != "..") return relative.generic_string();
  return file.generic_string();
}

// `-r x`, `-rx`, `--requirement x`, `--requirement=x`: the included path, or empty.
std::string include_target(const std::string& line) {
  for (const std::string option : {"--requirement", "-r"}) {
    if (!line.starts_with(option)) continue;
    std::string rest = line.substr(option.size());
    if (!rest.empty() && rest[0] == '=') return support::trim(rest.substr(1), " \t\r\f\v");
    if (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) return support::trim(rest, " \t\r\f\v");
    if (option == "-r") return support::trim(rest, " \t\r\f\v");
  }
  return {};
}

bool is_include(const std::string& line) {
  return line == "-r" || line == "--requirement" || line.starts_with("-r ") || line.starts_with("-r=") ||
         line.starts_with("-r\t") || line.starts_with("--requirement ") || line.starts_with("--requirement=") ||
         (line.starts_with("-r") && line.size() > 2 && line[2] != '-');
}

class RequirementsReader {
 public:
  explicit RequirementsReader(std::filesystem::path project_dir) : project_dir_(std::move(project_dir)) {}

  void read_text(std::string_view text, const std::filesystem::path& file, int depth) {
    std::error_code error;
    std::string key = std::filesystem::weakly_canonical(file, error).string();
    reading_.insert(key);
    read_lines(text, file, depth);
    reading_.erase(key);
  }

  void read_lines(std::string_view text, const std::filesystem::path& file, int depth) {
    std::string label = label_for(file, project_dir_);
    std::istringstream stream{std::string(text)};
    std::string physical;
    std::string logical;
    int line_number = 0;
    int logical_start = 0;
    auto flush = [&] {
      std::string line = support::trim(strip_comment(logical), " \t\r\f\v");
      logical.clear();
      if (line.empty()) return;
      Location where{label, logical_start, 0};
      if (is_include(line)) {
        include(include_target(line), file, where, depth);
      } else {
        lines_.push_back({line, where});
      }
    };
    while (std::getline(stream, physical)) {
      ++line_number;
      if (!physical.empty() && physical.back() == '\r') physical.pop_back();
      if (logical.empty()) logical_start = line_number;
      // A trailing backslash joins the next line (pip removes both the backslash and the newline).
      if (!physical.empty() && physical.back() == '\\') {
        logical += physical.substr(0, physical.size() - 1);
        continue;
      }
      logical += physical;
      flush();
    }
    flush();
  }

  void read_file(const std::filesystem::path& file, const Location* included_from, int depth) {
    std::error_code error;
    std::string label = label_for(file, project_dir_);
    if (!std::filesystem::is_regular_file(file, error)) {
      Location where = included_from ? *included_from : Location{label, 0, 0};
      errors_.emplace_back(ErrorKind::NotFound, where, label + ": file does not exist", "create it, or fix the path");
      return;
    }
    if (std::filesystem::file_size(file, error) > kMaxFileBytes) {
      errors_.emplace_back(ErrorKind::Validation, Location{label, 0, 0},
                           "file is larger than 16 MiB: not a requirements file",
                           "point python_requirements at a pip requirements file");
      return;
    }
    std::ifstream stream(file, std::ios::binary);
    std::ostringstream text;
    text << stream.rdbuf();
    if (!stream && !stream.eof()) {
      errors_.emplace_back(ErrorKind::Io, Location{label, 0, 0}, "cannot read the file", "check its permissions");
      return;
    }
    read_text(text.str(), file, depth);
  }

  std::vector<RequirementLine>& lines() { return lines_; }
  std::vector<Error>& errors() { return errors_; }

 private:
  void include(const std::string& target, const std::filesystem::path& from, const Location& where, int depth) {
    if (target.empty()) {
      errors_.emplace_back(ErrorKind::Parse, where, "-r needs a file name", "write -r other-requirements.txt");
      return;
    }
    std::filesystem::path included = from.parent_path() / target;
    std::error_code error;
    std::string key = std::filesystem::weakly_canonical(included, error).string();
    if (reading_.count(key) || depth >= kMaxIncludeDepth) {
      errors_.emplace_back(ErrorKind::Validation, where,
                           "-r " + target + " includes a file that is already being read (a cycle)",
                           "remove the -r line that leads back to this file");
      return;
    }
    read_file(included, &where, depth + 1);
  }

  std::filesystem::path project_dir_;
  std::set<std::string> reading_;  // the include chain being read, to reject cycles
  std::vector<RequirementLine> lines_;
  std::vector<Error> errors_;
};

std::vector<Requirement> finish(RequirementsReader& reader, const std::filesystem::path& project_dir) {
  auto requirements = classify_requirement_lines(reader.lines(), project_dir, reader.errors());
  if (!reader.errors().empty()) throw Errors(std::move(reader.errors()));
  return requirements;
}

}  // namespace

std::vector<Requirement> parse_requirements_file(const std::filesystem::path& file,
                                                 const std::filesystem::path& project_dir) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    throw Error(ErrorKind::NotFound, label_for(file, project_dir), "file does not exist", "create it, or fix the path");
  }
  RequirementsReader reader(project_dir);
  reader.read_file(file, nullptr, 0);
  return finish(reader, project_dir);
}

std::vector<Requirement> parse_requirements_text(std::string_view text, const std::filesystem::path& file,
                                                 const std::filesystem::path& project_dir) {
  RequirementsReader reader(project_dir);
  reader.read_text(text, file, 0);
  return finish(reader, project_dir);
}

}  // namespace cog::builder::config
