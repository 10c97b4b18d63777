#include <doctest/doctest.h>

#include <sstream>

#include "cli/progress_view.hpp"

using namespace std::chrono_literals;
using cog::cli::fit_to_width;
using cog::cli::format_elapsed;
using cog::cli::ProgressView;
using cog::cli::SteadyClock;
using cog::cli::TerminalProgress;
using Lines = std::vector<std::string>;

namespace {

// A clock that moves only when the test says so.
struct FakeClock {
  SteadyClock::time_point at{};
  cog::cli::NowFunction function() {
    return [this] { return at; };
  }
};

}  // namespace

TEST_CASE("elapsed times") {
  CHECK(format_elapsed(0ms) == "0.0s");
  CHECK(format_elapsed(1234ms) == "1.2s");
  CHECK(format_elapsed(59'999ms) == "59.9s");
  CHECK(format_elapsed(125'000ms) == "2m05s");
}

TEST_CASE("lines are cleaned and cut to the width") {
  CHECK(fit_to_width("short", 10) == "short");
  CHECK(fit_to_width("exactly10c", 10) == "exactly10c");
  CHECK(fit_to_width("one too long", 11) == "one too lo…");
  CHECK(fit_to_width("\x1b[1;32mgreen\x1b[0m text", 80) == "green text");
  CHECK(fit_to_width("\x1b]0;title\aafter", 80) == "after");
  CHECK(fit_to_width(" 10%\r 50%\r100%\r", 80) == "100%");
  CHECK(fit_to_width("a\tb", 80) == "a       b");
  CHECK(fit_to_width("bell\a and nul", 80) == "bell and nul");
  // Columns, not bytes: "é" and "…" are one column each.
  CHECK(fit_to_width("héllo wörld", 8) == "héllo w…");
  CHECK(fit_to_width("anything", 0).empty());
}

TEST_CASE("a build: cached base, a step with output, finished steps collapse to one line") {
  FakeClock clock;
  ProgressView view({.tail_lines = 2, .now = clock.function()});
  view.feed("Building image from environment in cog.yaml as hello...");
  view.feed("  BASE Debian with Python 3.11");
  view.feed("  CACHED debian bookworm base (3.11)");
  CHECK(view.take_final(80) ==
        Lines{"Building image from environment in cog.yaml as hello...", "=> CACHED debian bookworm base (3.11)"});

  clock.at += 500ms;
  view.feed("  STEP apt-get install tesseract-ocr");
  view.feed("  | Reading package lists...");
  view.feed("  | Unpacking tesseract-ocr (5.3.0-2) ...");
  clock.at += 2300ms;
  view.feed("  | Setting up tesseract-ocr (5.3.0-2) ...");
  CHECK(view.take_final(80).empty());
  CHECK(view.live(80) == Lines{"[+] Building 2.8s", "=> apt-get install tesseract-ocr 2.3s",
                               "   | Unpacking tesseract-ocr (5.3.0-2) ...",
                               "   | Setting up tesseract-ocr (5.3.0-2) ..."});

  view.feed("  DONE apt-get install tesseract-ocr (2.4s)");  // the pipeline's own timing wins
  view.feed("  CACHED pip install -r requirements.txt");
  CHECK(view.take_final(80) ==
        Lines{"=> DONE apt-get install tesseract-ocr (2.4s)", "=> CACHED pip install -r requirements.txt"});
  CHECK(view.live(80) == Lines{"[+] Building 2.8s"});
  view.feed("Wrote docker-archive:hello.tar");
  view.finish(true);
  CHECK(view.take_final(80) == Lines{"Wrote docker-archive:hello.tar"});
}

TEST_CASE("a base assembled now is timed by the view, as it has no DONE line") {
  FakeClock clock;
  ProgressView view({.now = clock.function()});
  view.feed("  BASE Debian with Python 3.11");
  view.feed("  | I: Retrieving InRelease");
  clock.at += 95s;
  CHECK(view.live(80) ==
        Lines{"[+] Building 1m35s", "=> Debian with Python 3.11 1m35s", "   | I: Retrieving InRelease"});
  view.feed("  STEP RUN echo hi");
  CHECK(view.take_final(80) == Lines{"=> DONE Debian with Python 3.11 (1m35s)"});
}

TEST_CASE("a failed step keeps all its output, not only the tail") {
  FakeClock clock;
  ProgressView view({.tail_lines = 1, .kept_lines = 3, .now = clock.function()});
  view.feed("  STEP RUN make");
  for (int i = 1; i <= 5; ++i) view.feed("  | line " + std::to_string(i));
  CHECK(view.live(80) == Lines{"[+] Building 0.0s", "=> RUN make 0.0s", "   | line 5"});
  clock.at += 3s;
  view.finish(false);
  CHECK(view.take_final(80) == Lines{"=> FAILED RUN make (3.0s)", "   | line 3", "   | line 4", "   | line 5"});
  CHECK(view.live(80) == Lines{"[+] Building 3.0s"});
}

TEST_CASE("long descriptions are cut so the time stays visible") {
  FakeClock clock;
  ProgressView view({.now = clock.function()});
  view.feed("  STEP apt-get install a-very-long-package-name another-long-package-name");
  CHECK(view.live(40) == Lines{"[+] Building 0.0s", "=> apt-get install a-very-long-pac… 0.0s"});
  view.feed("  DONE apt-get install a-very-long-package-name another-long-package-name (12.5s)");
  CHECK(view.take_final(40) == Lines{"=> DONE apt-get install a-very-… (12.5s)"});
}

TEST_CASE("output before any step shows under the total time, and goes with the next line") {
  FakeClock clock;
  ProgressView view({.now = clock.function()});
  view.feed("  | stray output");
  CHECK(view.live(80) == Lines{"[+] Building 0.0s", "   | stray output"});
  view.feed("warning: something");
  CHECK(view.live(80) == Lines{"[+] Building 0.0s"});
  CHECK(view.take_final(80) == Lines{"warning: something"});
}

TEST_CASE("the terminal: final lines once, the live area erased and redrawn in place") {
  FakeClock clock;
  std::ostringstream out;
  {
    TerminalProgress terminal({.out = &out,
                               .width = [] { return std::size_t{41}; },
                               .now = clock.function(),
                               .interval = 0ms,
                               .tail_lines = 2});
    terminal.feed("Building image as hello...");
    CHECK(out.str() == "Building image as hello...\n[+] Building 0.0s\n");
    out.str("");

    terminal.feed("  STEP RUN pip install numpy");
    CHECK(out.str() == "\x1b[1A\r\x1b[J[+] Building 0.0s\n=> RUN pip install numpy 0.0s\n");
    out.str("");

    clock.at += 1500ms;
    terminal.redraw();  // what the ticker does while the step prints nothing
    CHECK(out.str() == "\x1b[2A\r\x1b[J[+] Building 1.5s\n=> RUN pip install numpy 1.5s\n");
    out.str("");

    terminal.feed("  | Collecting numpy");
    terminal.feed("  DONE RUN pip install numpy (1.6s)");
    CHECK(out.str() ==
          "\x1b[2A\r\x1b[J[+] Building 1.5s\n=> RUN pip install numpy 1.5s\n   | Collecting numpy\n"
          "\x1b[3A\r\x1b[J=> DONE RUN pip install numpy (1.6s)\n[+] Building 1.5s\n");
    out.str("");

    terminal.finish(true);
    CHECK(out.str() == "\x1b[1A\r\x1b[J");
    out.str("");
    terminal.feed("  STEP ignored after finish");
  }
  CHECK(out.str().empty());  // the destructor after finish() draws nothing
}

TEST_CASE("the terminal: a build that throws leaves the failed step and its output") {
  FakeClock clock;
  std::ostringstream out;
  {
    TerminalProgress terminal(
        {.out = &out, .width = [] { return std::size_t{80}; }, .now = clock.function(), .interval = 0ms});
    terminal.feed("  STEP RUN false");
    terminal.feed("  | it broke");
    out.str("");
    clock.at += 200ms;
  }  // no finish(): the destructor ends it as failed
  CHECK(out.str() == "\x1b[3A\r\x1b[J=> FAILED RUN false (0.2s)\n   | it broke\n");
}

TEST_CASE("the ticker redraws on its own and stops with finish()") {
  std::ostringstream out;
  TerminalProgress terminal({.out = &out, .width = [] { return std::size_t{80}; }, .now = {}, .interval = 5ms});
  terminal.feed("  STEP RUN sleep 1");
  std::this_thread::sleep_for(100ms);
  terminal.finish(true);
  const std::string text = out.str();
  std::size_t frames = 0;
  for (std::size_t at = text.find("[+] Building"); at != std::string::npos; at = text.find("[+] Building", at + 1))
    ++frames;
  CHECK(frames >= 3);
  CHECK(text.find("=> DONE RUN sleep 1") != std::string::npos);
}
