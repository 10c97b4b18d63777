#include "builder/exec/deb822.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "builder/exec/debian_suites.hpp"
#include "support/error.hpp"
#include "support/text.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> result;
  std::istringstream stream{std::string(text)};
  for (std::string word; stream >> word;) result.push_back(word);
  return result;
}

// One source: its URIs and suites, whichever syntax it came in.
struct Source {
  std::vector<std::string> uris;
  std::vector<std::string> suites;
};

std::vector<Source> parse_deb822(std::istream& in) {
  std::vector<Source> sources;
  for (const auto& paragraph : read_deb822(in)) {
    const auto field = [&](const char* name) {
      const auto found = paragraph.find(name);
      return found == paragraph.end() ? std::string() : found->second;
    };
    Source source{words(field("uris")), words(field("suites"))};
    if (field("enabled") != "no" && !source.uris.empty()) sources.push_back(std::move(source));
  }
  return sources;
}

std::vector<Source> parse_one_line(std::istream& in) {
  std::vector<Source> sources;
  for (std::string line; std::getline(in, line);) {
    auto fields = words(line);
    if (fields.size() < 3 || fields[0] != "deb") continue;
    std::size_t at = 1;
    if (fields[at].front() == '[') {  // `[arch=amd64 signed-by=…]` options
      while (at < fields.size() && fields[at].back() != ']') ++at;
      ++at;
    }
    if (at + 1 >= fields.size()) continue;
    sources.push_back({{fields[at]}, {fields[at + 1]}});
  }
  return sources;
}

bool is_security(const std::string& suite) {
  return suite.find("-security") != std::string::npos || suite.find("/updates") != std::string::npos;
}

std::string without_trailing_slash(std::string uri) {
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  return uri;
}

}  // namespace

std::vector<DebianSuite> python_suites() { return {{"bookworm", "3.11"}, {"trixie", "3.13"}}; }

std::string major_minor(std::string_view version) {
  auto first = version.find('.');
  if (first == std::string_view::npos || first == 0) return {};
  auto second = version.find('.', first + 1);
  std::string_view head = version.substr(0, second);
  if (head.size() == first + 1) return {};
  for (char c : head)
    if (c != '.' && (c < '0' || c > '9')) return {};
  if (second != std::string_view::npos)
    for (char c : version.substr(second + 1))
      if (c < '0' || c > '9') return {};
  return std::string(head);
}

std::string debian_python_offers() {
  std::string offered;
  for (const auto& suite : python_suites()) {
    offered += (offered.empty() ? "" : ", ") + suite.python_version + " (Debian " + suite.name + ")";
  }
  return offered;
}

DebianSuite suite_for_python(std::string_view python_version) {
  const auto wanted = major_minor(python_version);
  for (const auto& suite : python_suites()) {
    if (suite.python_version == wanted) return suite;
  }
  throw Error(ErrorKind::Compatibility, "build.python_version",
              "Python " + std::string(python_version) +
                  " is not available: the Debian mirror this builder uses offers only " + debian_python_offers(),
              "set build.python_version to one of those");
}

DebianMirrors mirrors_from_apt_sources(const fs::path& etc_apt) {
  std::vector<Source> sources;
  std::error_code error;
  std::vector<fs::path> files;
  if (fs::exists(etc_apt / "sources.list", error)) files.push_back(etc_apt / "sources.list");
  for (fs::directory_iterator it(etc_apt / "sources.list.d", error), end; !error && it != end; it.increment(error))
    files.push_back(it->path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    auto found = file.extension() == ".sources"                                     ? parse_deb822(in)
                 : file.extension() == ".list" || file.filename() == "sources.list" ? parse_one_line(in)
                                                                                    : std::vector<Source>{};
    sources.insert(sources.end(), found.begin(), found.end());
  }
  DebianMirrors mirrors;
  std::optional<std::string> archive;
  for (const auto& source : sources) {
    bool security = std::any_of(source.suites.begin(), source.suites.end(), is_security);
    for (const auto& uri : source.uris) {
      if (!uri.starts_with("http")) continue;
      if (security && mirrors.security.empty()) mirrors.security = without_trailing_slash(uri);
      if (!security && !archive) archive = without_trailing_slash(uri);
    }
  }
  if (archive) mirrors.archive = *archive;
  return mirrors;
}

}  // namespace cog::builder::exec
