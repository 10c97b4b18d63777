#include "runtime/ipc/frame.hpp"

#include <cerrno>
#include <exception>
#include <utility>
#include <sys/socket.h>
#include <unistd.h>

#include "support/error.hpp"

namespace cog::runtime::ipc {

std::string encode_frame(std::string_view payload) {
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::string frame;
  frame.reserve(4 + payload.size());
  frame.push_back(static_cast<char>((size >> 24) & 0xff));
  frame.push_back(static_cast<char>((size >> 16) & 0xff));
  frame.push_back(static_cast<char>((size >> 8) & 0xff));
  frame.push_back(static_cast<char>(size & 0xff));
  frame.append(payload);
  return frame;
}

void FrameDecoder::feed(const char* data, std::size_t size) {
  // Drop what was already handed out before growing, so the buffer stays one frame big.
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > (1u << 20)) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(data, size);
}

std::optional<std::string> FrameDecoder::next() {
  const std::size_t available = buffer_.size() - consumed_;
  if (available < 4) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  const std::uint32_t size =
      (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (size > kMaxFrameBytes) {
    throw Error(ErrorKind::Runtime, "worker protocol", "frame of " + std::to_string(size) + " bytes exceeds the limit");
  }
  if (available - 4 < size) return std::nullopt;
  std::string payload = buffer_.substr(consumed_ + 4, size);
  consumed_ += 4 + size;
  return payload;
}

bool write_frame(int fd, std::string_view payload) {
  const std::string frame = encode_frame(payload);
  std::size_t written = 0;
  while (written < frame.size()) {
    const ssize_t n = ::send(fd, frame.data() + written, frame.size() - written, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> read_frame(int fd, FrameDecoder& decoder) {
  char chunk[65536];
  while (true) {
    if (auto payload = decoder.next()) return payload;
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    decoder.feed(chunk, static_cast<std::size_t>(n));
  }
}

bool read_frames(int fd, const std::function<void(std::string payload)>& on_payload) {
  FrameDecoder decoder;
  while (true) {
    std::optional<std::string> payload;
    try {
      payload = read_frame(fd, decoder);
    } catch (const std::exception&) {
      return false;
    }
    if (!payload) return true;
    on_payload(std::move(*payload));
  }
}

}  // namespace cog::runtime::ipc
