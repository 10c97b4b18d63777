#include "cli/terminal.hpp"

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

namespace cog::cli {
namespace {

std::string without_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

std::string prompt_line(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  return without_newline(line);
}

std::string prompt_secret(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios saved{};
  bool terminal = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (terminal) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (terminal) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  return without_newline(line);
}

std::string read_stdin_secret() {
  std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return without_newline(all);
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) != 0; }

}  // namespace cog::cli
