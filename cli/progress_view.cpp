#include "cli/progress_view.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>

#include "cli/terminal.hpp"

namespace cog::cli {
namespace {

constexpr std::string_view kStep = "  STEP ";
constexpr std::string_view kDone = "  DONE ";
constexpr std::string_view kCached = "  CACHED ";
constexpr std::string_view kBase = "  BASE ";
constexpr std::string_view kOutput = "  | ";
constexpr std::string_view kOutputIndent = "   | ";

bool continuation_byte(unsigned char c) { return (c & 0xC0) == 0x80; }

std::size_t columns(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += continuation_byte(c) ? 0 : 1;
  return count;
}

// Removes escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ESC \`, two-byte ones) and
// control characters, and expands tabs to the next multiple of 8 columns.
std::string printable(std::string_view text) {
  std::string clean;
  std::size_t column = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b) {
      if (i + 1 < text.size() && text[i + 1] == '[') {
        i += 2;
        while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) ++i;
      } else if (i + 1 < text.size() && text[i + 1] == ']') {
        i += 2;
        while (i < text.size() && text[i] != '\a' && !(text[i] == 0x1b && i + 1 < text.size() && text[i + 1] == '\\'))
          ++i;
        if (i < text.size() && text[i] == 0x1b) ++i;
      } else {
        ++i;
      }
      continue;
    }
    if (c == '\t') {
      do {
        clean += ' ';
      } while (++column % 8 != 0);
      continue;
    }
    if (c < 0x20 || c == 0x7f) continue;
    clean += static_cast<char>(c);
    if (!continuation_byte(c)) ++column;
  }
  return clean;
}

}  // namespace

std::string format_elapsed(std::chrono::milliseconds elapsed) {
  const long long ms = std::max<long long>(0, elapsed.count());
  char text[32];
  if (ms < 60'000) {
    std::snprintf(text, sizeof text, "%lld.%llds", ms / 1000, (ms % 1000) / 100);
  } else {
    const long long seconds = ms / 1000;
    std::snprintf(text, sizeof text, "%lldm%02llds", seconds / 60, seconds % 60);
  }
  return text;
}

std::string fit_to_width(std::string_view text, std::size_t width) {
  // A progress bar redraws its line with carriage returns: a terminal shows what came last.
  while (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (auto cr = text.rfind('\r'); cr != std::string_view::npos) text.remove_prefix(cr + 1);
  std::string clean = printable(text);
  if (columns(clean) <= width) return clean;
  if (width == 0) return "";
  std::string cut;
  std::size_t kept = 0;
  for (char c : clean) {
    if (!continuation_byte(static_cast<unsigned char>(c)) && ++kept > width - 1) break;
    cut += c;
  }
  return cut + "…";
}

// ------------------------------------------------------------------------------------- view

ProgressView::ProgressView(Options options) : options_(std::move(options)), started_(now()) {}

SteadyClock::time_point ProgressView::now() const { return options_.now ? options_.now() : SteadyClock::now(); }

void ProgressView::end_running(std::optional<std::string> done_time, bool failed) {
  if (!running_) return;
  std::string time =
      done_time ? *done_time
                : format_elapsed(std::chrono::duration_cast<std::chrono::milliseconds>(now() - running_->started));
  final_.push_back({failed ? "FAILED" : "DONE", running_->description, time});
  if (failed) {
    for (const auto& line : running_->output) final_.push_back({"", line, "", true});
  }
  running_.reset();
}

void ProgressView::feed(std::string_view line) {
  if (line.starts_with(kOutput)) {
    auto& output = running_ ? running_->output : loose_output_;
    output.emplace_back(line.substr(kOutput.size()));
    const std::size_t keep = running_ ? std::max(options_.kept_lines, options_.tail_lines) : options_.tail_lines;
    while (output.size() > keep) output.pop_front();
    return;
  }
  loose_output_.clear();
  if (line.starts_with(kCached)) {
    // A Debian base found in the cache says BASE, then CACHED for its layer: one line is enough.
    if (running_ && running_->base && running_->output.empty()) running_.reset();
    end_running(std::nullopt, false);
    final_.push_back({"CACHED", std::string(line.substr(kCached.size())), ""});
  } else if (line.starts_with(kStep) || line.starts_with(kBase)) {
    end_running(std::nullopt, false);
    const bool base = line.starts_with(kBase);
    running_ = Running{std::string(line.substr(base ? kBase.size() : kStep.size())), now(), base, {}};
  } else if (line.starts_with(kDone)) {
    // "  DONE <description> (<time>)": the pipeline's own timing of the step.
    std::string_view rest = line.substr(kDone.size());
    std::string_view description = rest;
    std::optional<std::string> time;
    if (auto open = rest.rfind(" ("); open != std::string_view::npos && rest.back() == ')') {
      description = rest.substr(0, open);
      time = std::string(rest.substr(open + 2, rest.size() - open - 3));
    }
    if (running_ && running_->description == description) {
      end_running(time, false);
    } else {
      end_running(std::nullopt, false);
      final_.push_back({"DONE", std::string(description), time.value_or("")});
    }
  } else {
    end_running(std::nullopt, false);
    final_.push_back({"", std::string(line), ""});
  }
}

std::vector<std::string> ProgressView::take_final(std::size_t width) {
  std::vector<std::string> lines;
  for (const auto& item : final_) {
    if (item.marker.empty()) {
      lines.push_back(
          fit_to_width(item.output ? std::string(kOutputIndent) + item.description : item.description, width));
      continue;
    }
    const std::string head = "=> " + item.marker + " ";
    const std::string tail = item.time.empty() ? "" : " (" + item.time + ")";
    const std::size_t used = columns(head) + columns(tail);
    lines.push_back(width > used + 8 ? head + fit_to_width(item.description, width - used) + tail
                                     : fit_to_width(head + item.description + tail, width));
  }
  final_.clear();
  return lines;
}

std::vector<std::string> ProgressView::live(std::size_t width) const {
  const auto at = now();
  auto since = [&](SteadyClock::time_point start) {
    return format_elapsed(std::chrono::duration_cast<std::chrono::milliseconds>(at - start));
  };
  std::vector<std::string> lines{fit_to_width("[+] Building " + since(started_), width)};
  const std::deque<std::string>* output = &loose_output_;
  if (running_) {
    const std::string head = "=> ";
    const std::string tail = " " + since(running_->started);
    const std::size_t used = columns(head) + columns(tail);
    lines.push_back(width > used + 8 ? head + fit_to_width(running_->description, width - used) + tail
                                     : fit_to_width(head + running_->description + tail, width));
    output = &running_->output;
  }
  const std::size_t shown = std::min(output->size(), options_.tail_lines);
  for (std::size_t i = output->size() - shown; i < output->size(); ++i) {
    lines.push_back(fit_to_width(std::string(kOutputIndent) + (*output)[i], width));
  }
  return lines;
}

void ProgressView::finish(bool ok) {
  loose_output_.clear();
  end_running(std::nullopt, !ok);
}

// --------------------------------------------------------------------------------- terminal

std::size_t terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

TerminalProgress::TerminalProgress(Options options)
    : options_(std::move(options)),
      view_(ProgressView::Options{.tail_lines = options_.tail_lines, .now = options_.now}) {
  if (!options_.width) options_.width = [] { return terminal_columns(STDERR_FILENO); };
  if (options_.interval.count() > 0) {
    ticker_ = std::jthread([this](std::stop_token stop) {
      std::mutex sleep_mutex;
      std::condition_variable_any wake;
      std::unique_lock lock(sleep_mutex);
      while (!stop.stop_requested()) {
        wake.wait_for(lock, stop, options_.interval, [] { return false; });
        if (!stop.stop_requested()) redraw();
      }
    });
  }
}

TerminalProgress::~TerminalProgress() {
  if (ticker_.joinable()) {
    ticker_.request_stop();
    ticker_.join();
  }
  try {
    finish(false);
  } catch (...) {  // a destructor must not throw; the terminal is left as it is
  }
}

void TerminalProgress::feed(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  view_.feed(line);
  redraw_locked();
}

void TerminalProgress::redraw() {
  std::lock_guard lock(mutex_);
  if (!finished_) redraw_locked();
}

void TerminalProgress::redraw_locked() {
  // One width for the whole frame; a line as wide as the terminal would wrap on some, so one less.
  const std::size_t width = std::max<std::size_t>(options_.width(), 2) - 1;
  std::string frame;
  if (live_lines_ > 0) frame += "\x1b[" + std::to_string(live_lines_) + "A\r\x1b[J";
  for (const auto& line : view_.take_final(width)) frame += line + "\n";
  live_lines_ = 0;
  if (!finished_) {
    for (const auto& line : view_.live(width)) {
      frame += line + "\n";
      ++live_lines_;
    }
  }
  *options_.out << frame << std::flush;
}

void TerminalProgress::finish(bool ok) {
  if (ticker_.joinable()) {
    ticker_.request_stop();
    ticker_.join();
  }
  std::lock_guard lock(mutex_);
  if (finished_) return;
  view_.finish(ok);
  finished_ = true;
  redraw_locked();
}

bool progress_is_live(const std::string& progress) {
  const char* term = std::getenv("TERM");
  return progress == "tty" || (progress == "auto" && stderr_is_terminal() && term && std::string_view(term) != "dumb");
}

std::string default_progress() {
  const char* progress = std::getenv("BUILDKIT_PROGRESS");
  return progress && *progress ? progress : "auto";
}

}  // namespace cog::cli
