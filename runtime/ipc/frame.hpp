#pragma once
// Frames on the supervisor <-> worker control socket: a 4-byte big-endian length, then that many
// bytes of UTF-8 JSON (one object with a "type" field). See runtime/worker/PROTOCOL.md.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cog::runtime::ipc {

// Bigger than the 100 MiB request body limit plus JSON overhead; a longer frame is a protocol error.
inline constexpr std::uint32_t kMaxFrameBytes = 256u * 1024u * 1024u;

// The bytes of one frame carrying `payload`.
std::string encode_frame(std::string_view payload);

// Accumulates bytes read from a socket and hands back complete payloads.
class FrameDecoder {
 public:
  void feed(const char* data, std::size_t size);
  // The next complete payload, or nullopt when more bytes are needed. Throws cog::Error on a
  // frame longer than kMaxFrameBytes.
  std::optional<std::string> next();

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
};

// Blocking helpers over a file descriptor. write_frame returns false when the peer is gone;
// read_frame returns nullopt on end of stream.
bool write_frame(int fd, std::string_view payload);
std::optional<std::string> read_frame(int fd, FrameDecoder& decoder);

// Hands each payload read from `fd` to `on_payload` until the end of the stream (true) or a
// protocol error (false): both ends of the control socket read this way.
bool read_frames(int fd, const std::function<void(std::string payload)>& on_payload);

}  // namespace cog::runtime::ipc
