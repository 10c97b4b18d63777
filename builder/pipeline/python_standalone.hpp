#pragma once
// Python from python-build-standalone archives (the builds `uv python install` uses), for a
// python_version no Debian release offers. Nothing is fetched unless configured: the setting
// COG_PYTHON_STANDALONE lists archives (files, directories of them, or http(s) URLs); an
// `install_only` archive's python/ tree becomes the image's /usr/local, over a Debian base that
// has no Python of its own.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cog::builder::pipeline {

// The environment variable that configures the archives.
inline constexpr const char* kPythonStandaloneVariable = "COG_PYTHON_STANDALONE";

struct StandaloneArchive {
  std::string location;   // a local file or an http(s) URL
  std::string file_name;  // cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz
  std::string version;    // "3.12.1"
};

struct StandaloneOffer {
  std::vector<StandaloneArchive> archives;
  std::vector<std::string> skipped;  // "<location>: why it cannot be used"
};

// The version of an archive named as python-build-standalone names them:
// cpython-<X.Y.Z>+<release>-<x86_64 triple>-linux-gnu-install_only[_stripped].tar.(gz|zst).
// Anything else (another architecture, musl, the `full` layout, another name) gives nullopt and
// says why in `why_not`.
std::optional<std::string> standalone_version(std::string_view file_name, std::string* why_not = nullptr);

// Reads the setting: entries separated by commas or white space; a directory contributes the
// archives in it. Missing files are skipped with the reason, never an error by themselves.
StandaloneOffer standalone_archives(std::string_view setting);

// The archive for `python_version`: "3.12" takes the newest 3.12.x, "3.12.1" only 3.12.1.
std::optional<StandaloneArchive> pick_standalone(const std::vector<StandaloneArchive>& archives,
                                                 std::string_view python_version);

// The archive as a local file: itself, or downloaded once into <cache_root>/python-archives/.
// Throws cog::Error naming the URL when the download fails.
std::filesystem::path fetch_standalone(const StandaloneArchive& archive, const std::filesystem::path& cache_root,
                                       const std::function<void(const std::string&)>& progress);

// Unpacks the archive's python/ tree to <staging>/usr/local (hostile entries rejected, nothing
// written outside `staging`) and checks that it is the Python it claims: bin/python3,
// include/python3.X/patchlevel.h of `version`, and lib/libpython3.X.so.1.0 (or .so), which the
// worker embeds. Throws cog::Error(Validation) naming the archive otherwise.
void unpack_standalone(const std::filesystem::path& archive, const std::filesystem::path& staging,
                       const std::string& version);

// PY_VERSION from a patchlevel.h ("3.12.1"); empty when absent.
std::string patchlevel_version(std::string_view header_text);

}  // namespace cog::builder::pipeline
