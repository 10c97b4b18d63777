#include "builder/registry/progress.hpp"

#include "support/human_size.hpp"

namespace cog::builder::registry {

Progress::Progress(std::ostream* out, bool live) : out_(out), live_(live && out) {}

std::size_t Progress::add(const std::string& label, std::int64_t total) {
  std::lock_guard lock(mutex_);
  lines_.push_back(Line{label, total, 0, {}});
  if (live_) redraw(true);
  return lines_.size() - 1;
}

void Progress::update(std::size_t id, std::int64_t done) {
  std::lock_guard lock(mutex_);
  lines_[id].done = done;
  if (live_) redraw(false);
}

void Progress::finish(std::size_t id, const std::string& status) {
  std::lock_guard lock(mutex_);
  lines_[id].status = status;
  lines_[id].done = lines_[id].total;
  if (live_)
    redraw(true);
  else if (out_)
    *out_ << render(lines_[id]) << "\n" << std::flush;
}

void Progress::note(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (!out_) return;
  if (live_ && drawn_ > 0) {
    *out_ << "\033[" << drawn_ << "A\r\033[J";  // clear the block, print, draw it again below
    drawn_ = 0;
  }
  *out_ << message << "\n";
  if (live_) redraw(true);
  *out_ << std::flush;
}

std::string Progress::render(const Line& line) const {
  if (!line.status.empty()) return line.label + ": " + line.status;
  return line.label + ": " + support::human_size(line.done) + " / " + support::human_size(line.total);
}

void Progress::redraw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  if (drawn_ > 0) *out_ << "\033[" << drawn_ << "A";
  for (const auto& line : lines_) *out_ << "\r\033[2K" << render(line) << "\n";
  drawn_ = lines_.size();
  *out_ << std::flush;
}

}  // namespace cog::builder::registry
