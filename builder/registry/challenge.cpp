#include "builder/registry/challenge.hpp"

#include <cctype>

namespace cog::builder::registry {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/:").find(c) != std::string_view::npos;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A small cursor over the header; every method leaves `pos` after what it consumed.
struct Cursor {
  const std::string& text;
  size_t pos = 0;

  void skip_spaces() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
  bool at(char c) {
    skip_spaces();
    return pos < text.size() && text[pos] == c;
  }
  std::string token() {
    skip_spaces();
    size_t start = pos;
    while (pos < text.size() && is_token_char(text[pos])) ++pos;
    return text.substr(start, pos - start);
  }
  std::string quoted() {  // after the opening quote
    std::string value;
    while (pos < text.size() && text[pos] != '"') {
      if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
      value += text[pos++];
    }
    if (pos < text.size()) ++pos;
    return value;
  }
  // True when the next thing is `key=` (a parameter) rather than a new scheme name.
  bool parameter_follows() {
    size_t saved = pos;
    bool is_param = !token().empty() && at('=');
    pos = saved;
    return is_param;
  }
};

}  // namespace

std::string Challenge::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_challenges(const std::string& header) {
  std::vector<Challenge> challenges;
  Cursor cursor{header};
  while (cursor.pos < header.size()) {
    while (cursor.at(',')) ++cursor.pos;
    std::string scheme = cursor.token();
    if (scheme.empty()) break;
    Challenge challenge{lower(scheme), {}};
    while (cursor.parameter_follows()) {
      std::string key = lower(cursor.token());
      cursor.at('=');  // skips the spaces before it
      ++cursor.pos;
      std::string value;
      if (cursor.at('"')) {
        ++cursor.pos;
        value = cursor.quoted();
      } else {
        value = cursor.token();
      }
      challenge.params[key] = value;
      if (!cursor.at(',')) break;
      ++cursor.pos;
    }
    challenges.push_back(std::move(challenge));
    cursor.skip_spaces();
    if (cursor.pos < header.size() && !std::isalpha(static_cast<unsigned char>(header[cursor.pos])) &&
        header[cursor.pos] != ',')
      break;
  }
  return challenges;
}

}  // namespace cog::builder::registry
