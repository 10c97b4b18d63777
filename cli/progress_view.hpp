#pragma once
// The live view of `cog build` on a terminal, built on the pipeline's progress lines (its
// ProgressSink): "  BASE d" and "  STEP d" start a step, "  DONE d (1.2s)" ends one, "  CACHED d"
// is a step that did not run, "  | text" is output of the running step, anything else a message.
// ProgressView turns those lines into text; TerminalProgress draws it in place on a terminal.
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cog::cli {

using SteadyClock = std::chrono::steady_clock;
// The clock the view reads (tests pass a fake one); empty = SteadyClock::now.
using NowFunction = std::function<SteadyClock::time_point()>;

// The build as its progress lines describe it. Lines it returns fit in `width` columns and hold
// no control characters (step output is cleaned of colours, carriage returns and tabs).
class ProgressView {
 public:
  struct Options {
    std::size_t tail_lines = 6;    // output lines of the running step shown live
    std::size_t kept_lines = 200;  // output lines kept to show when the step fails
    NowFunction now;
  };

  explicit ProgressView(Options options);
  ProgressView() : ProgressView(Options{}) {}

  // Takes one line of the pipeline's progress.
  void feed(std::string_view line);
  // Lines that became final since the last call: messages, and one line per finished step
  // ("=> CACHED d", "=> DONE d (1.2s)", "=> FAILED d (3.0s)" followed by its output).
  std::vector<std::string> take_final(std::size_t width);
  // What is redrawn in place: the total time, the running step with its time so far, and the
  // last lines of its output.
  std::vector<std::string> live(std::size_t width) const;
  // The build is over: a running step ends as DONE (ok) or FAILED with all its kept output.
  void finish(bool ok);

 private:
  struct Final {
    std::string marker;       // CACHED, DONE, FAILED; empty for a message
    std::string description;  // or the message
    std::string time;         // "1.2s", empty for CACHED and messages
    bool output = false;      // a line of a failed step's output
  };
  struct Running {
    std::string description;
    SteadyClock::time_point started;
    bool base = false;  // a BASE step has no DONE: it ends when the next line arrives
    std::deque<std::string> output;
  };

  SteadyClock::time_point now() const;
  void end_running(std::optional<std::string> done_time, bool failed);
  void end_base_before(std::string_view next_cached);

  Options options_;
  SteadyClock::time_point started_;
  std::optional<Running> running_;
  std::deque<std::string> loose_output_;  // output with no step running
  std::vector<Final> final_;
};

// "0.4s", "12.3s", "2m05s".
std::string format_elapsed(std::chrono::milliseconds elapsed);

// `text` made printable (no escape sequences or control characters; the part after the last
// carriage return, as a terminal would show it) and cut to `width` columns with "…".
std::string fit_to_width(std::string_view text, std::size_t width);

// Draws a ProgressView on a terminal: final lines are printed once and scroll away; the live
// area below them is erased and redrawn on every line and every `interval` (a ticker thread keeps
// the step's time moving while it prints nothing). finish() leaves only the final lines.
class TerminalProgress {
 public:
  struct Options {
    std::ostream* out = nullptr;              // required: where the frames go (stderr)
    std::function<std::size_t()> width;       // empty = the columns of stderr's terminal
    NowFunction now;                          // empty = SteadyClock::now
    std::chrono::milliseconds interval{100};  // zero = no ticker thread (tests)
    std::size_t tail_lines = 6;
  };

  explicit TerminalProgress(Options options);
  ~TerminalProgress();  // finish(false) when finish() was not called
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  void feed(std::string_view line);
  void redraw();
  void finish(bool ok);

 private:
  void redraw_locked();

  Options options_;
  ProgressView view_;
  std::mutex mutex_;
  std::size_t live_lines_ = 0;  // lines of the live area now on screen
  bool finished_ = false;
  std::jthread ticker_;
};

// Columns of the terminal on `fd`; 80 when it is not a terminal or does not say.
std::size_t terminal_columns(int fd);

// Whether `--progress` asks for a live view: tty, or auto with stderr on a terminal whose TERM is
// not dumb.
bool progress_is_live(const std::string& progress);

// --progress's default: $BUILDKIT_PROGRESS, else auto (as Cog).
std::string default_progress();

}  // namespace cog::cli
