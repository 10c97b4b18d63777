#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/ipc/frame.hpp"

using namespace cog::runtime::ipc;

namespace {

const std::vector<std::string> kFrames = {
    R"({"type":"shutdown"})",
    R"({"context":{},"id":"pred_1","input":{"name":"world"},"type":"predict"})",
    R"({"data":"héllo\n","id":"pred_1","source":"stdout","type":"log"})",
    R"({"id":"pred_1","output":"hello world","predict_time":0.25,"status":"succeeded","type":"done"})",
};

std::string hex_lines(const std::vector<std::string>& payloads) {
  std::ostringstream out;
  for (const auto& payload : payloads) {
    const std::string frame = encode_frame(payload);
    static constexpr char digits[] = "0123456789abcdef";
    for (const unsigned char c : frame) out << digits[c >> 4] << digits[c & 15];
    out << "\n";
  }
  return out.str();
}

}  // namespace

TEST_CASE("frames match the golden encoding") {
  std::ifstream in(std::string(COG_GOLDEN_DIR) + "/server/ipc_frames.txt");
  REQUIRE(in);
  std::ostringstream golden;
  golden << in.rdbuf();
  CHECK(hex_lines(kFrames) == golden.str());
}

TEST_CASE("the decoder reassembles frames split at any byte") {
  std::string stream;
  for (const auto& payload : kFrames) stream += encode_frame(payload);
  for (std::size_t chunk = 1; chunk <= 7; ++chunk) {
    FrameDecoder decoder;
    std::vector<std::string> decoded;
    for (std::size_t offset = 0; offset < stream.size(); offset += chunk) {
      decoder.feed(stream.data() + offset, std::min(chunk, stream.size() - offset));
      while (auto payload = decoder.next()) decoded.push_back(*payload);
    }
    CHECK(decoded == kFrames);
  }
}

TEST_CASE("an oversized frame is refused") {
  FrameDecoder decoder;
  const char header[] = {'\x7f', '\x00', '\x00', '\x00'};
  decoder.feed(header, 4);
  CHECK_THROWS(decoder.next());
}

TEST_CASE("read_frames hands over every payload, then says whether the stream ended cleanly") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  for (const auto& payload : kFrames) REQUIRE(write_frame(fds[1], payload));
  ::close(fds[1]);
  std::vector<std::string> received;
  CHECK(read_frames(fds[0], [&](std::string payload) { received.push_back(std::move(payload)); }));
  CHECK(received == kFrames);
  ::close(fds[0]);

  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  REQUIRE(write_frame(fds[1], kFrames[0]));
  const char oversized[] = {'\x7f', '\x00', '\x00', '\x00'};
  REQUIRE(::write(fds[1], oversized, sizeof oversized) == 4);
  ::close(fds[1]);
  received.clear();
  CHECK_FALSE(read_frames(fds[0], [&](std::string payload) { received.push_back(std::move(payload)); }));
  CHECK(received == std::vector<std::string>{kFrames[0]});
  ::close(fds[0]);
}
