#pragma once
// Which Debian release gives which Python, and where the Debian mirror is.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cog::builder::exec {

struct DebianSuite {
  std::string name;            // "bookworm"
  std::string python_version;  // major.minor of its python3 package: "3.11"
};

// The suites we build bases from: bookworm (Python 3.11) and trixie (Python 3.13).
std::vector<DebianSuite> python_suites();

// "3.11 (Debian bookworm), 3.13 (Debian trixie)": what the suites offer, for error messages.
std::string debian_python_offers();

// The suite whose python3 matches `python_version` ("3.11" or "3.11.2"; the patch level is
// checked against the installed package later). Throws cog::Error(Compatibility) naming the
// versions on offer: nothing is ever substituted.
DebianSuite suite_for_python(std::string_view python_version);

// "3.11.2" -> "3.11"; "3.11" -> "3.11"; anything else -> "".
std::string major_minor(std::string_view version);

struct DebianMirrors {
  std::string archive = "http://deb.debian.org/debian";  // the main archive
  std::string security;                                  // may be empty
};

// Read from the host's apt sources (deb822 `sources.list.d/*.sources` and one-line
// `sources.list` / `sources.list.d/*.list`) under `etc_apt`; defaults when none is found.
DebianMirrors mirrors_from_apt_sources(const std::filesystem::path& etc_apt = "/etc/apt");

}  // namespace cog::builder::exec
