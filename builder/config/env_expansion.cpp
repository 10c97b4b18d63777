#include "builder/config/env_expansion.hpp"

#include "support/error.hpp"

namespace cog::builder::config {
namespace {

bool name_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

std::string expand_env_value(std::string_view value, const EnvLookup& lookup, const std::string& where) {
  std::string out;
  for (std::size_t at = 0; at < value.size();) {
    const char c = value[at];
    if (c == '\\' && at + 1 < value.size() && value[at + 1] == '$') {
      out += '$';
      at += 2;
      continue;
    }
    if (c != '$' || at + 1 == value.size()) {
      out += c;
      ++at;
      continue;
    }
    if (name_start(value[at + 1])) {
      std::size_t end = at + 1;
      while (end < value.size() && name_char(value[end])) ++end;
      out += lookup(std::string(value.substr(at + 1, end - at - 1))).value_or("");
      at = end;
      continue;
    }
    if (value[at + 1] != '{') {
      out += c;
      ++at;
      continue;
    }
    const auto close = value.find('}', at + 2);
    if (close == std::string_view::npos) {
      throw Error(ErrorKind::Validation, where, "\"" + std::string(value) + "\" has a ${ without its }",
                  "close it, or write \\$ for a literal dollar sign");
    }
    const std::string_view inside = value.substr(at + 2, close - at - 2);
    const auto colon = inside.find(':');
    const std::string name(inside.substr(0, colon));
    const auto current = lookup(name);
    if (colon == std::string_view::npos) {
      out += current.value_or("");
    } else if (inside.substr(colon, 2) == ":-") {
      out += current && !current->empty() ? *current : std::string(inside.substr(colon + 2));
    } else if (inside.substr(colon, 2) == ":+") {
      out += current && !current->empty() ? std::string(inside.substr(colon + 2)) : std::string();
    } else {
      throw Error(
          ErrorKind::Validation, where,
          "\"" + std::string(value) + "\": ${" + std::string(inside) + "} is not a substitution Docker's ENV knows",
          "use ${NAME}, ${NAME:-default} or ${NAME:+alternative}, or \\$ for a literal dollar sign");
    }
    at = close + 1;
  }
  return out;
}

}  // namespace cog::builder::config
