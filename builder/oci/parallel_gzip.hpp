#pragma once
// gzip in independent blocks, pigz-style: the input is cut into fixed 128 KiB blocks, each
// compressed on its own (primed with the previous 32 KiB as dictionary, ended with a sync flush),
// and the pieces joined into one deflate stream. The bytes depend only on the input and the
// level, never on the number of threads, so layer digests are the same on every machine.
// Internal to builder/oci.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cog::builder::oci {

class ParallelGzip {
 public:
  using Sink = std::function<void(const void* data, std::size_t size)>;
  // threads = 0: one per hardware thread.
  ParallelGzip(int level, unsigned threads, Sink sink);

  void write(const void* data, std::size_t size);
  void finish();  // flushes, writes the final block and the gzip trailer

 private:
  void flush_batch();

  int level_;
  unsigned threads_;
  Sink sink_;
  std::string current_;               // the block being filled
  std::vector<std::string> pending_;  // full blocks waiting to be compressed
  std::string dictionary_;            // last 32 KiB before pending_[0]
  std::uint32_t crc_ = 0;
  std::uint64_t length_ = 0;
};

}  // namespace cog::builder::oci
