#pragma once
// Debian's control-file format (deb822): paragraphs of `Field: value` lines separated by blank
// lines, as in /etc/apt/sources.list.d/*.sources and /var/lib/dpkg/status.
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace cog::builder::exec {

// One paragraph: field names lower-cased (deb822 names are case-insensitive), values trimmed.
// Continuation lines (multi-line values such as Description) and `#` comments are skipped.
using Deb822Paragraph = std::map<std::string, std::string>;

std::vector<Deb822Paragraph> read_deb822(std::istream& in);

}  // namespace cog::builder::exec
