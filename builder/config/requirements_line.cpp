// Classifying one logical requirements line: options, editables, URLs, local artifacts, and
// PEP 508 package requirements (`name[extras] op version, ...; marker`, `name @ url`).
#include <algorithm>
#include <cctype>

#include "builder/config/requirements.hpp"
#include "support/text.hpp"

namespace cog::builder::config {

namespace {

using Kind = Requirement::Kind;

const char* const kSpecifierHelp = "see https://pip.pypa.io/en/stable/reference/requirement-specifiers/";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool is_url(std::string_view text) {
  for (std::string_view scheme : {"git+", "hg+", "svn+", "bzr+", "http://", "https://", "file:"}) {
    if (text.starts_with(scheme)) return true;
  }
  return false;
}

bool looks_like_path(std::string_view token) {
  if (token.starts_with(".") || token.starts_with("/") || token.starts_with("~")) return true;
  if (token.find('/') != std::string_view::npos || token.find('\\') != std::string_view::npos) {
    return true;
  }
  return std::any_of(local_artifact_suffixes().begin(), local_artifact_suffixes().end(),
                     [&](const std::string& suffix) { return ends_with(token, suffix); });
}

// `--opt=value` / `--opt value` for any of the spellings; nullopt when the line is another option.
std::optional<std::string> option_value(const std::string& line, std::initializer_list<std::string_view> spellings) {
  for (std::string_view spelling : spellings) {
    if (!line.starts_with(spelling)) continue;
    std::string rest = line.substr(spelling.size());
    if (rest.empty()) return std::string();
    if (rest[0] == '=' || rest[0] == ' ' || rest[0] == '\t') return support::trim(rest.substr(1), " \t");
    if (spelling.size() == 2) return support::trim(rest, " \t");  // `-ihttps://…`, pip accepts short options glued
  }
  return std::nullopt;
}

// `#egg=name` at the end of a VCS or archive URL names the project.
std::string egg_name(std::string_view url) {
  std::size_t at = url.find("#egg=");
  if (at == std::string_view::npos) return {};
  std::string_view name = url.substr(at + 5);
  name = name.substr(0, name.find('&'));
  return normalize_project_name(name);
}

bool valid_version_token(std::string_view version) {
  if (version.empty()) return false;
  return std::all_of(version.begin(), version.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '*' || c == '+' || c == '!' ||
           c == '_' || c == '-';
  });
}

// `>=1.0, <2` (optionally in parentheses). Returns an error description or empty.
std::string check_specifier(std::string& specifier) {
  std::string text = support::trim(specifier, " \t");
  if (!text.empty() && text.front() == '(' && text.back() == ')')
    text = support::trim(text.substr(1, text.size() - 2), " \t");
  specifier = text;
  if (text.empty()) return {};
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string clause =
        support::trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start), " \t");
    std::size_t op_length = 0;
    for (std::string_view op : {"===", "==", "!=", "<=", ">=", "~=", "<", ">"}) {
      if (clause.starts_with(op)) {
        op_length = op.size();
        break;
      }
    }
    if (op_length == 0) return "\"" + clause + "\" is not a version specifier (==, >=, ~=, ...)";
    if (!valid_version_token(support::trim(clause.substr(op_length), " \t"))) {
      return "\"" + clause + "\" does not name a version";
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return {};
}

class LineClassifier {
 public:
  LineClassifier(const std::filesystem::path& project_dir, std::vector<Error>& errors)
      : project_dir_(project_dir), errors_(errors) {}

  std::optional<Requirement> classify(const RequirementLine& line) {
    Requirement out;
    out.text = line.text;
    out.where = line.where;
    const std::string& text = line.text;
    if (text[0] == '-') return classify_option(line, out);
    // Per-requirement options (`--hash=…`, `--extra-index-url …`) follow the requirement.
    std::size_t options_at = std::string::npos;
    for (std::size_t i = 1; i < text.size(); ++i) {
      if (text[i] == '-' && (text[i - 1] == ' ' || text[i - 1] == '\t') && i + 1 < text.size() && text[i + 1] == '-') {
        options_at = i;
        break;
      }
    }
    std::string requirement = support::trim(text.substr(0, options_at), " \t");
    bool has_options = options_at != std::string::npos;
    if (is_url(requirement)) {
      out.kind = Kind::Url;
      out.value = requirement.substr(0, requirement.find_first_of(" \t;"));
      out.name = egg_name(out.value);
      return out;
    }
    std::string first_token = requirement.substr(0, requirement.find_first_of(" \t;"));
    if (looks_like_path(first_token)) return classify_local(line, out, requirement, has_options);
    return classify_package(line, out, requirement);
  }

 private:
  void fail(const RequirementLine& line, std::string what, std::string fix) {
    errors_.emplace_back(ErrorKind::Validation, line.where, std::move(what), std::move(fix));
  }

  std::optional<Requirement> classify_option(const RequirementLine& line, Requirement& out) {
    const std::string& text = line.text;
    struct Form {
      Kind kind;
      std::initializer_list<std::string_view> spellings;
    };
    for (const Form& form :
         {Form{Kind::ExtraIndexUrl, {"--extra-index-url"}}, Form{Kind::IndexUrl, {"--index-url", "-i"}},
          Form{Kind::FindLinks, {"--find-links", "-f"}}, Form{Kind::Editable, {"--editable", "-e"}}}) {
      auto value = option_value(text, form.spellings);
      if (!value) continue;
      if (value->empty()) {
        fail(line, "\"" + text + "\" needs a value", "write " + std::string(*form.spellings.begin()) + " <value>");
        return std::nullopt;
      }
      out.kind = form.kind;
      out.value = *value;
      if (form.kind == Kind::Editable) out.name = egg_name(*value);
      return out;
    }
    out.kind = Kind::Option;
    return out;
  }

  std::optional<Requirement> classify_local(const RequirementLine& line, Requirement& out,
                                            const std::string& requirement, bool has_options) {
    std::string invalid = "invalid local package \"" + requirement + "\": ";
    if (has_options) {
      fail(line, invalid + "options and hashes are not supported on local package lines",
           "put the path alone on its line");
      return std::nullopt;
    }
    if (requirement.find(';') != std::string::npos) {
      fail(line, invalid + "environment markers are not supported on local package lines",
           "put the path alone on its line");
      return std::nullopt;
    }
    // A file name may hold spaces (`./pkgs/my pkg-1.0.zip`): pip keeps the line's words together
    // as one path, so a line naming an existing file is that file.
    std::error_code error;
    const bool existing_file = std::filesystem::is_regular_file(project_dir_ / requirement, error);
    if (requirement.find('[') != std::string::npos ||
        (!existing_file && requirement.find_first_of(" \t") != std::string::npos)) {
      fail(line, invalid + "extras and version specifiers are not supported on local package lines",
           "put the path alone on its line");
      return std::nullopt;
    }
    return check_local_path(line, out, requirement);
  }

  std::optional<Requirement> check_local_path(const RequirementLine& line, Requirement& out,
                                              const std::string& path_text) {
    std::string invalid = "invalid local package \"" + path_text + "\": ";
    std::filesystem::path relative(path_text);
    bool escapes = relative.is_absolute() || path_text[0] == '~' || path_text.find('\\') != std::string::npos;
    int depth = 0;
    for (const auto& part : relative.lexically_normal()) {
      if (part == "..")
        --depth;
      else if (part != ".")
        ++depth;
      escapes = escapes || depth < 0;
    }
    if (escapes) {
      fail(line, invalid + "must be a relative path inside the project directory",
           "copy the file into the project and refer to it as ./dist/<file>");
      return std::nullopt;
    }
    std::error_code error;
    std::filesystem::path full = project_dir_ / relative;
    if (std::filesystem::is_directory(full, error)) {
      fail(line, invalid + "local directories are not supported",
           "build a wheel (pip wheel " + path_text + ") and refer to the .whl file");
      return std::nullopt;
    }
    bool allowed_suffix = std::any_of(local_artifact_suffixes().begin(), local_artifact_suffixes().end(),
                                      [&](const std::string& suffix) { return ends_with(path_text, suffix); });
    if (!allowed_suffix) {
      fail(line, invalid + "must be a .whl, .zip, .tar.gz, .tgz, .tar.bz2 or .tar.xz file",
           "build a wheel or sdist and refer to that file");
      return std::nullopt;
    }
    if (!std::filesystem::is_regular_file(full, error)) {
      fail(line, invalid + "file does not exist", "build it first, or fix the path");
      return std::nullopt;
    }
    out.kind = Kind::LocalArtifact;
    out.value = relative.lexically_normal().generic_string();
    return out;
  }

  std::optional<Requirement> classify_package(const RequirementLine& line, Requirement& out,
                                              const std::string& requirement) {
    std::size_t name_end = 0;
    while (name_end < requirement.size() && is_name_char(requirement[name_end])) ++name_end;
    std::string name = requirement.substr(0, name_end);
    bool name_ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name.front())) != 0 &&
                   std::isalnum(static_cast<unsigned char>(name.back())) != 0;
    if (!name_ok) {
      fail(line, "invalid requirement \"" + requirement + "\": expected a package name", kSpecifierHelp);
      return std::nullopt;
    }
    out.kind = Kind::Package;
    out.name = normalize_project_name(name);
    std::string rest = requirement.substr(name_end);
    std::size_t semicolon = rest.find(';');
    if (semicolon != std::string::npos) {
      out.marker = support::trim(rest.substr(semicolon + 1), " \t");
      rest = rest.substr(0, semicolon);
    }
    rest = support::trim(rest, " \t");
    if (!rest.empty() && rest[0] == '[') {
      std::size_t close = rest.find(']');
      if (close == std::string::npos) {
        fail(line, "invalid requirement \"" + requirement + "\": unclosed [ in extras", kSpecifierHelp);
        return std::nullopt;
      }
      out.extras = support::trim(rest.substr(1, close - 1), " \t");
      rest = support::trim(rest.substr(close + 1), " \t");
    }
    if (!rest.empty() && rest[0] == '@') {
      std::string url = support::trim(rest.substr(1), " \t");
      if (url.empty()) {
        fail(line, "invalid requirement \"" + requirement + "\": nothing after @", kSpecifierHelp);
        return std::nullopt;
      }
      if (!is_url(url) && url.find("://") == std::string::npos) {
        fail(line, "invalid local package \"" + requirement + "\": \"name @ path\" is not supported",
             "write the path alone on its line, e.g. ./dist/" + name + "-1.0-py3-none-any.whl");
        return std::nullopt;
      }
      out.value = url;
      return out;
    }
    out.specifier = rest;
    if (std::string problem = check_specifier(out.specifier); !problem.empty()) {
      fail(line, "invalid requirement \"" + requirement + "\": " + problem, kSpecifierHelp);
      return std::nullopt;
    }
    return out;
  }

  const std::filesystem::path& project_dir_;
  std::vector<Error>& errors_;
};

}  // namespace

std::string Requirement::pinned_version() const {
  if (specifier.find(',') != std::string::npos) return {};
  std::string_view text = specifier;
  std::size_t skip = text.starts_with("===") ? 3 : text.starts_with("==") ? 2 : 0;
  if (skip == 0) return {};
  std::string version = support::trim(text.substr(skip), " \t");
  if (version.empty() || version.find('*') != std::string::npos) return {};
  return version;
}

std::string normalize_project_name(std::string_view name) {
  std::string out;
  bool in_separator_run = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (!in_separator_run) out += '-';
      in_separator_run = true;
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      in_separator_run = false;
    }
  }
  return out;
}

const std::vector<std::string>& local_artifact_suffixes() {
  static const std::vector<std::string> kSuffixes{".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"};
  return kSuffixes;
}

std::vector<Requirement> classify_requirement_lines(const std::vector<RequirementLine>& lines,
                                                    const std::filesystem::path& project_dir,
                                                    std::vector<Error>& errors) {
  std::vector<Requirement> requirements;
  LineClassifier classifier(project_dir, errors);
  for (const auto& line : lines) {
    if (line.text.empty()) continue;
    if (auto requirement = classifier.classify(line)) requirements.push_back(std::move(*requirement));
  }
  return requirements;
}

}  // namespace cog::builder::config
