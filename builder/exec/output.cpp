#include "builder/exec/output.hpp"

namespace cog::builder::exec {

LineSplitter::LineSplitter(Stream stream, const LineSink& sink, std::size_t max_line)
    : stream_(stream), sink_(sink), max_line_(max_line == 0 ? 1 : max_line) {}

void LineSplitter::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    pending_.append(bytes.substr(0, newline));
    bytes.remove_prefix(newline == std::string_view::npos ? bytes.size() : newline + 1);
    while (pending_.size() > max_line_) {
      deliver(std::string_view(pending_).substr(0, max_line_));
      pending_.erase(0, max_line_);
    }
    if (newline == std::string_view::npos) return;
    if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
    deliver(pending_);
    pending_.clear();
  }
}

void LineSplitter::finish() {
  if (pending_.empty()) return;
  if (pending_.back() == '\r') pending_.pop_back();
  deliver(pending_);
  pending_.clear();
}

void LineSplitter::deliver(std::string_view line) {
  if (sink_) sink_(stream_, line);
}

}  // namespace cog::builder::exec
