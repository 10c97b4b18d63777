#pragma once
// One line per blob while a push or pull runs. On a terminal the block of lines is redrawn in
// place (at most ten times a second); otherwise each blob prints one plain line when it is done.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace cog::builder::registry {

class Progress {
 public:
  // `out` may be null (silent). `live` redraws in place: use it only for a terminal.
  Progress(std::ostream* out, bool live);

  // A new line for `label` (a short digest), `total` bytes; returns its id.
  std::size_t add(const std::string& label, std::int64_t total);
  void update(std::size_t id, std::int64_t done);
  // Final state of a line: `Pushed`, `Layer already exists`, `Mounted from a/b`, `Downloaded`...
  void finish(std::size_t id, const std::string& status);
  // A message line above the live block (or plain).
  void note(const std::string& message);

 private:
  struct Line {
    std::string label;
    std::int64_t total = 0;
    std::int64_t done = 0;
    std::string status;  // empty while in flight
  };
  std::string render(const Line& line) const;
  void redraw(bool force);  // caller holds mutex_

  std::ostream* out_;
  bool live_;
  std::mutex mutex_;
  std::vector<Line> lines_;
  std::size_t drawn_ = 0;  // lines on screen from the last redraw
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace cog::builder::registry
