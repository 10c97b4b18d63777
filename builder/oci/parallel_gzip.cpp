#include "builder/oci/parallel_gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <thread>

#include "support/error.hpp"

namespace cog::builder::oci {
namespace {

constexpr std::size_t block_size = 128 * 1024;
constexpr std::size_t window = 32 * 1024;

// Raw deflate of one block, primed with `dictionary`, ended on a byte boundary (sync flush).
std::string deflate_block(const std::string& block, const std::string& dictionary, int level) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error(ErrorKind::Runtime, "gzip", "zlib could not start");
  }
  if (!dictionary.empty()) {
    deflateSetDictionary(&stream, reinterpret_cast<const Bytef*>(dictionary.data()),
                         static_cast<uInt>(dictionary.size()));
  }
  std::string out(deflateBound(&stream, block.size()) + 16, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  stream.avail_in = static_cast<uInt>(block.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_SYNC_FLUSH);
  out.resize(out.size() - stream.avail_out);
  deflateEnd(&stream);
  return out;
}

std::string tail_window(const std::string& block) {
  return block.size() <= window ? block : block.substr(block.size() - window);
}

}  // namespace

ParallelGzip::ParallelGzip(int level, unsigned threads, Sink sink)
    : level_(level),
      threads_(threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency())),
      sink_(std::move(sink)) {
  // gzip header: deflate, no flags, mtime 0, no extra flags, OS 255 (unknown).
  static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  sink_(header, sizeof header);
  current_.reserve(block_size);
  crc_ = static_cast<std::uint32_t>(crc32(0, nullptr, 0));
}

void ParallelGzip::write(const void* data, std::size_t size) {
  crc_ = static_cast<std::uint32_t>(crc32_z(crc_, static_cast<const Bytef*>(data), size));
  length_ += size;
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    std::size_t take = std::min(size, block_size - current_.size());
    current_.append(bytes, take);
    bytes += take;
    size -= take;
    if (current_.size() == block_size) {
      pending_.push_back(std::move(current_));
      current_.clear();
      current_.reserve(block_size);
      if (pending_.size() >= threads_ * 4) flush_batch();
    }
  }
}

void ParallelGzip::flush_batch() {
  if (pending_.empty()) return;
  std::vector<std::string> compressed(pending_.size());
  auto work = [&](std::size_t first) {
    for (std::size_t i = first; i < pending_.size(); i += threads_) {
      compressed[i] = deflate_block(pending_[i], i == 0 ? dictionary_ : tail_window(pending_[i - 1]), level_);
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads_ && t < pending_.size(); ++t) workers.emplace_back(work, t);
  work(0);
  for (auto& worker : workers) worker.join();
  for (const auto& piece : compressed) sink_(piece.data(), piece.size());
  dictionary_ = tail_window(pending_.back());
  pending_.clear();
}

void ParallelGzip::finish() {
  if (!current_.empty()) pending_.push_back(std::move(current_));
  current_.clear();
  flush_batch();
  // An empty final block with fixed codes ends the deflate stream.
  static const unsigned char final_block[2] = {0x03, 0x00};
  sink_(final_block, sizeof final_block);
  unsigned char trailer[8];
  for (int i = 0; i < 4; ++i) trailer[i] = static_cast<unsigned char>(crc_ >> (8 * i));
  for (int i = 0; i < 4; ++i) trailer[4 + i] = static_cast<unsigned char>(length_ >> (8 * i));
  sink_(trailer, sizeof trailer);
}

}  // namespace cog::builder::oci
