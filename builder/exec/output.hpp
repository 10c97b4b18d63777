#pragma once
// How a step's output reaches the caller: whole lines, tagged with the stream they came from.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace cog::builder::exec {

enum class Stream { Stdout, Stderr };

// Called once per line, without the trailing newline (a trailing '\r' is dropped too).
using LineSink = std::function<void(Stream, std::string_view line)>;

// Cuts a byte stream into lines. A line longer than `max_line` is delivered in pieces so that a
// step printing megabytes without a newline cannot exhaust memory.
class LineSplitter {
 public:
  LineSplitter(Stream stream, const LineSink& sink, std::size_t max_line = 64 * 1024);

  void feed(std::string_view bytes);
  void finish();  // delivers an unterminated last line

 private:
  void deliver(std::string_view line);

  Stream stream_;
  const LineSink& sink_;
  std::size_t max_line_;
  std::string pending_;
};

}  // namespace cog::builder::exec
