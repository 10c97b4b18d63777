#include "builder/pipeline/python_standalone.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "builder/exec/debian_suites.hpp"
#include "builder/oci/unpack.hpp"
#include "builder/registry/http.hpp"
#include "support/error.hpp"
#include "support/scratch_dir.hpp"
#include "support/text_file.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

bool is_url(std::string_view location) { return location.starts_with("http://") || location.starts_with("https://"); }

std::string file_name_of(std::string_view location) {
  std::string_view name = location;
  if (is_url(location)) {
    name = name.substr(0, name.find_first_of("?#"));
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
    // Release assets are published with `+` percent-encoded.
    std::string decoded(name);
    for (auto at = decoded.find("%2B"); at != std::string::npos; at = decoded.find("%2B")) decoded.replace(at, 3, "+");
    return decoded;
  }
  return fs::path(location).filename().string();
}

// "3.12.10" < "3.12.9" as text; compared as numbers here.
std::vector<int> version_numbers(const std::string& version) {
  std::vector<int> numbers;
  std::istringstream parts(version);
  for (std::string part; std::getline(parts, part, '.');) numbers.push_back(std::stoi(part));
  return numbers;
}

// One to six digits: a version component version_numbers can hold.
bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 6 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// X.Y.Z with numbers only.
bool is_full_version(std::string_view version) {
  const auto first = version.find('.');
  const auto second = version.find('.', first == std::string_view::npos ? first : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return false;
  return all_digits(version.substr(0, first)) && all_digits(version.substr(first + 1, second - first - 1)) &&
         all_digits(version.substr(second + 1));
}

}  // namespace

std::optional<std::string> standalone_version(std::string_view name, std::string* why_not) {
  auto refuse = [&](const std::string& why) -> std::optional<std::string> {
    if (why_not) *why_not = why;
    return std::nullopt;
  };
  const std::string_view prefix = "cpython-";
  if (!name.starts_with(prefix)) {
    return refuse(
        "not named like a python-build-standalone archive "
        "(cpython-X.Y.Z+RELEASE-x86_64-unknown-linux-gnu-install_only.tar.gz)");
  }
  std::string_view rest = name.substr(prefix.size());
  const auto plus = rest.find('+');
  if (plus == std::string_view::npos || !is_full_version(rest.substr(0, plus))) {
    return refuse("the name does not carry a version X.Y.Z after cpython-");
  }
  const std::string version(rest.substr(0, plus));
  std::string_view flavour = rest.substr(plus + 1);
  std::string_view extension;
  for (std::string_view candidate : {".tar.gz", ".tar.zst", ".tgz"}) {
    if (flavour.size() > candidate.size() && flavour.substr(flavour.size() - candidate.size()) == candidate) {
      extension = candidate;
    }
  }
  if (extension.empty()) return refuse("not a .tar.gz or .tar.zst archive");
  flavour.remove_suffix(extension.size());
  if (flavour.find("-linux-gnu") == std::string_view::npos) {
    return refuse(flavour.find("-musl") != std::string_view::npos
                      ? "a musl build: it cannot load the glibc-linked worker or wheels"
                      : "not a Linux (glibc) build");
  }
  if (flavour.find("-x86_64") == std::string_view::npos) return refuse("not an x86_64 build; images here are amd64");
  if (flavour.find("-freethreaded") != std::string_view::npos) {
    return refuse("a free-threaded build (python3.Xt): the worker embeds the default build");
  }
  const bool install_only = flavour.size() >= 13 && (flavour.substr(flavour.size() - 13) == "-install_only" ||
                                                     flavour.find("-install_only_stripped") != std::string_view::npos);
  if (!install_only) return refuse("not an install_only archive (the `full` layout is not supported)");
  return version;
}

StandaloneOffer standalone_archives(std::string_view setting) {
  StandaloneOffer offer;
  std::string text(setting);
  std::replace(text.begin(), text.end(), ',', ' ');
  std::istringstream entries(text);
  auto consider = [&](const std::string& location) {
    std::string why;
    const std::string name = file_name_of(location);
    if (auto version = standalone_version(name, &why)) {
      offer.archives.push_back({location, name, *version});
    } else {
      offer.skipped.push_back(location + ": " + why);
    }
  };
  for (std::string entry; entries >> entry;) {
    if (is_url(entry)) {
      consider(entry);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<std::string> files;
      for (const auto& item : fs::directory_iterator(entry, ec)) {
        if (item.is_regular_file() && item.path().filename().string().starts_with("cpython-")) {
          files.push_back(item.path().string());
        }
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) offer.skipped.push_back(entry + ": no cpython-*.tar.gz archives in this directory");
      for (const auto& file : files) consider(file);
    } else if (fs::is_regular_file(entry, ec)) {
      consider(entry);
    } else {
      offer.skipped.push_back(entry + ": no such file or directory");
    }
  }
  return offer;
}

std::optional<StandaloneArchive> pick_standalone(const std::vector<StandaloneArchive>& archives,
                                                 std::string_view python_version) {
  const std::string wanted(python_version);
  const std::string wanted_minor = exec::major_minor(wanted);
  if (wanted_minor.empty()) return std::nullopt;
  const bool exact = wanted != wanted_minor;
  std::optional<StandaloneArchive> best;
  for (const auto& archive : archives) {
    const bool fits = exact ? archive.version == wanted : exec::major_minor(archive.version) == wanted_minor;
    if (!fits) continue;
    // Newest patch first; among equal versions the first listed (stripped or not) wins.
    if (!best || version_numbers(archive.version) > version_numbers(best->version)) best = archive;
  }
  return best;
}

fs::path fetch_standalone(const StandaloneArchive& archive, const fs::path& cache_root,
                          const std::function<void(const std::string&)>& progress) {
  if (!is_url(archive.location)) return archive.location;
  const fs::path dir = cache_root / "python-archives";
  const fs::path file = dir / archive.file_name;
  if (fs::exists(file)) return file;
  fs::create_directories(dir);
  if (progress) progress("  FETCH " + archive.location);
  const support::ScratchDir download(dir, ".partial-");  // removed on every path, the rename included
  const fs::path partial = download.path / archive.file_name;
  std::ofstream out(partial, std::ios::binary);
  registry::HttpClient client(registry::TlsOptions{});
  registry::HttpRequest request;
  request.url = archive.location;
  request.download = [&](const char* data, size_t size) {
    out.write(data, static_cast<std::streamsize>(size));
    return static_cast<bool>(out);
  };
  const auto response = client.perform(request);
  out.close();
  if (!response.ok() || !out) {
    const std::string what = response.transport_code != 0 ? response.transport_error
                             : response.ok()              ? "could not write " + partial.string()
                                             : "the server answered HTTP " + std::to_string(response.status);
    throw Error(
        ErrorKind::Io, std::string(kPythonStandaloneVariable) + ": " + archive.location, what,
        "check the URL, or download the archive and list its path in " + std::string(kPythonStandaloneVariable));
  }
  fs::rename(partial, file);
  return file;
}

std::string patchlevel_version(std::string_view header_text) {
  const std::string_view marker = "#define PY_VERSION";
  const auto at = header_text.find(marker);
  if (at == std::string_view::npos) return {};
  const auto open = header_text.find('"', at + marker.size());
  const auto close = open == std::string_view::npos ? open : header_text.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(header_text.substr(open + 1, close - open - 1));
}

void unpack_standalone(const fs::path& archive, const fs::path& staging, const std::string& version) {
  const std::string where = std::string(kPythonStandaloneVariable) + ": " + archive.string();
  const std::string minor = exec::major_minor(version);
  const fs::path extract = staging / ".extract";
  fs::create_directories(extract);
  oci::UnpackOptions options;
  options.preserve_owner = false;
  options.device_nodes = false;
  try {
    oci::apply_layer(archive, extract, options);
  } catch (const Error& error) {
    throw Error(ErrorKind::Validation, where, "the archive cannot be unpacked: " + std::string(error.what()),
                "use an install_only archive as python-build-standalone publishes it");
  }
  for (const auto& entry : fs::directory_iterator(extract)) {
    if (entry.path().filename() != "python") {
      throw Error(ErrorKind::Validation, where,
                  "\"" + entry.path().filename().string() + "\" is outside the archive's python/ directory",
                  "use an install_only archive: everything in it lives under python/");
    }
  }
  const fs::path python = extract / "python";
  auto require = [&](const fs::path& relative, const std::string& why, const std::string& fix) {
    std::error_code ec;
    if (!fs::exists(python / relative, ec)) {
      throw Error(ErrorKind::Validation, where, "python/" + relative.string() + " is missing (" + why + ")", fix);
    }
  };
  const std::string any_fix = "use a python-build-standalone install_only archive of Python " + version;
  require("bin/python3", "the interpreter", any_fix);
  // Releases name it libpython3.X.so.1.0 with a libpython3.X.so link, or only libpython3.X.so.
  std::error_code ec;
  if (!fs::exists(python / "lib" / ("libpython" + minor + ".so"), ec)) {
    require(fs::path("lib") / ("libpython" + minor + ".so.1.0"), "the worker embeds the shared libpython",
            any_fix + " from a release that ships the shared library (older releases link it statically)");
  }
  const fs::path patchlevel = fs::path("include") / ("python" + minor) / "patchlevel.h";
  require(patchlevel, "the headers the worker is compiled against", any_fix);
  const std::string found = patchlevel_version(support::read_text_file(python / patchlevel));
  if (found != version) {
    throw Error(ErrorKind::Validation, where,
                "the archive's name says Python " + version + " but it holds Python " +
                    (found.empty() ? std::string("of unknown version") : found),
                "rename the archive after what it holds, or fetch the right one");
  }
  fs::create_directories(staging / "usr");
  fs::rename(python, staging / "usr" / "local");
  fs::remove_all(extract);
}

}  // namespace cog::builder::pipeline
