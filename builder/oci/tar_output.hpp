#pragma once
// A tar stream written entry by entry (ustar headers, PAX records when ustar cannot hold a
// value), optionally gzip-compressed with a fixed header, hashing both forms as it goes.
// Internal to builder/oci: tar_writer and the docker-archive exporter use it.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "builder/oci/digest.hpp"
#include "builder/oci/parallel_gzip.hpp"
#include "builder/oci/tar_writer.hpp"

namespace cog::builder::oci {

class TarOutput {
 public:
  TarOutput(const std::filesystem::path& out_file, bool gzip, int gzip_level, unsigned threads = 0);
  ~TarOutput();
  TarOutput(const TarOutput&) = delete;
  TarOutput& operator=(const TarOutput&) = delete;

  // Writes the header and, for a File with a source, its bytes (exactly entry.size of them).
  void add(const TarEntry& entry);
  // A regular file whose bytes are in memory.
  void add_bytes(const std::string& path, std::string_view data, std::uint32_t mode = 0644, std::int64_t mtime = 0);
  // Ends the archive; returns {diff_id, digest, size} (file and media_type filled in too).
  LayerBlob finish();

 private:
  void write_header(const TarEntry& entry);
  void write_raw(const void* data, std::size_t size);  // uncompressed bytes
  void write_out(const void* data, std::size_t size);  // bytes for the file
  void pad_to_block(std::int64_t written);

  std::filesystem::path out_file_;
  std::FILE* file_ = nullptr;
  std::unique_ptr<ParallelGzip> compressor_;
  Sha256 raw_hash_;
  Sha256 out_hash_;
  std::int64_t out_size_ = 0;
  bool finished_ = false;
};

}  // namespace cog::builder::oci
