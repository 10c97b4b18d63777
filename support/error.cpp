#include "support/error.hpp"

namespace cog {
namespace {

std::string join_message(const std::string& where, const std::string& what, const std::string& fix) {
  std::string text = where.empty() ? what : where + ": " + what;
  if (!fix.empty()) text += " — " + fix;
  return text;
}

std::string first_message(const std::vector<Error>& errors) {
  std::string text;
  for (const auto& error : errors) {
    if (!text.empty()) text += "\n";
    text += error.describe();
  }
  return text;
}

}  // namespace

std::string Location::str() const {
  std::string text = file;
  if (line > 0) {
    text += ":" + std::to_string(line);
    if (column > 0) text += ":" + std::to_string(column);
  }
  return text;
}

Error::Error(ErrorKind kind, std::string where, std::string what, std::string fix)
    : std::runtime_error(join_message(where, what, fix)),
      kind_(kind),
      where_(std::move(where)),
      what_(std::move(what)),
      fix_(std::move(fix)) {}

Error::Error(ErrorKind kind, const Location& where, std::string what, std::string fix)
    : Error(kind, where.str(), std::move(what), std::move(fix)) {}

std::string Error::describe() const { return join_message(where_, what_, fix_); }

Errors::Errors(std::vector<Error> errors) : std::runtime_error(first_message(errors)), errors_(std::move(errors)) {}

std::string Warning::describe() const { return join_message(where, what, fix); }

}  // namespace cog
