#pragma once
// Reading what the user types: a line, or a secret with echo turned off (on a terminal).
#include <string>

namespace cog::cli {

// Prints `prompt` on stderr, reads one line from stdin.
std::string prompt_line(const std::string& prompt);
// Same with echo off when stdin is a terminal; the line ends with a newline on stderr.
std::string prompt_secret(const std::string& prompt);
// All of stdin, without the trailing newline (for --password-stdin / --token-stdin).
std::string read_stdin_secret();
bool stderr_is_terminal();

}  // namespace cog::cli
