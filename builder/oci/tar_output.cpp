#include "builder/oci/tar_output.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include "support/error.hpp"

namespace cog::builder::oci {
namespace {

constexpr std::size_t block = 512;

// Writes `value` as zero-padded octal filling `width - 1` digits plus a NUL; false if too big.
bool put_octal(char* field, std::size_t width, std::uint64_t value) {
  std::uint64_t limit = 1;
  for (std::size_t i = 0; i < width - 1; ++i) limit *= 8;
  if (value >= limit) return false;
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0; value /= 8) field[i] = static_cast<char>('0' + value % 8);
  return true;
}

void put_string(char* field, std::size_t width, std::string_view value) {
  std::memcpy(field, value.data(), std::min(width, value.size()));
}

// One "<length> <key>=<value>\n" record; the length counts itself.
std::string pax_record(std::string_view key, std::string_view value) {
  std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t length = body + 1;
  while (std::to_string(length).size() + body != length) ++length;
  return std::to_string(length) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

char type_flag(TarEntry::Kind kind) {
  switch (kind) {
    case TarEntry::Kind::File:
      return '0';
    case TarEntry::Kind::Hardlink:
      return '1';
    case TarEntry::Kind::Symlink:
      return '2';
    case TarEntry::Kind::CharDevice:
      return '3';
    case TarEntry::Kind::BlockDevice:
      return '4';
    case TarEntry::Kind::Directory:
      return '5';
    case TarEntry::Kind::Fifo:
      return '6';
  }
  return '0';
}

}  // namespace

TarOutput::TarOutput(const std::filesystem::path& out_file, bool gzip, int gzip_level, unsigned threads)
    : out_file_(out_file) {
  file_ = std::fopen(out_file.c_str(), "wbe");
  if (file_ == nullptr) {
    throw Error(ErrorKind::Io, out_file.string(), std::strerror(errno), "check the directory exists");
  }
  if (gzip) {
    compressor_ = std::make_unique<ParallelGzip>(gzip_level, threads,
                                                 [this](const void* data, std::size_t size) { write_out(data, size); });
  }
}

TarOutput::~TarOutput() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) std::filesystem::remove(out_file_);
}

void TarOutput::write_out(const void* data, std::size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, file_) != size) {
    throw Error(ErrorKind::Io, out_file_.string(), std::strerror(errno), "check free disk space");
  }
  out_hash_.update(data, size);
  out_size_ += static_cast<std::int64_t>(size);
}

void TarOutput::write_raw(const void* data, std::size_t size) {
  raw_hash_.update(data, size);
  if (!compressor_) return write_out(data, size);
  compressor_->write(data, size);
}

void TarOutput::pad_to_block(std::int64_t written) {
  static const std::array<char, block> zeros{};
  auto remainder = static_cast<std::size_t>(written % block);
  if (remainder != 0) write_raw(zeros.data(), block - remainder);
}

void TarOutput::write_header(const TarEntry& entry) {
  std::string name = entry.path;
  if (entry.kind == TarEntry::Kind::Directory && !name.ends_with('/')) name += '/';
  bool is_file = entry.kind == TarEntry::Kind::File;
  std::uint64_t size = is_file ? static_cast<std::uint64_t>(entry.size) : 0;
  std::uint64_t mtime = entry.mtime > 0 ? static_cast<std::uint64_t>(entry.mtime) : 0;

  std::array<char, block> header{};
  std::string pax;
  if (name.size() > 100) pax += pax_record("path", name);
  if (entry.link_target.size() > 100) pax += pax_record("linkpath", entry.link_target);
  // A value too big for its ustar field goes to PAX; the field then holds 0.
  if (!put_octal(&header[124], 12, size)) {
    pax += pax_record("size", std::to_string(size));
    put_octal(&header[124], 12, 0);
  }
  if (!put_octal(&header[108], 8, entry.uid)) {
    pax += pax_record("uid", std::to_string(entry.uid));
    put_octal(&header[108], 8, 0);
  }
  if (!put_octal(&header[116], 8, entry.gid)) {
    pax += pax_record("gid", std::to_string(entry.gid));
    put_octal(&header[116], 8, 0);
  }
  if (!put_octal(&header[136], 12, mtime)) {
    pax += pax_record("mtime", std::to_string(mtime));
    put_octal(&header[136], 12, 0);
  }
  for (const auto& [key, value] : entry.xattrs) pax += pax_record("SCHILY.xattr." + key, value);

  auto fill_common = [](std::array<char, block>& h, char flag) {
    put_string(&h[257], 6, "ustar");
    put_string(&h[263], 2, "00");
    h[156] = flag;
  };
  auto checksum = [](std::array<char, block>& h) {
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    std::snprintf(&h[148], 8, "%06o", sum);
    h[155] = ' ';
  };

  if (!pax.empty()) {
    // The extended header's own name is derived from the entry (like Go's archive/tar), so it
    // is as deterministic as the entry itself.
    auto slash = entry.path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : entry.path.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? entry.path : entry.path.substr(slash + 1);
    std::string pax_name = (dir + "PaxHeaders.0/" + base).substr(0, 100);
    std::array<char, block> pax_header{};
    put_string(&pax_header[0], 100, pax_name);
    put_octal(&pax_header[100], 8, 0644);
    put_octal(&pax_header[108], 8, 0);
    put_octal(&pax_header[116], 8, 0);
    put_octal(&pax_header[124], 12, pax.size());
    put_octal(&pax_header[136], 12, 0);
    fill_common(pax_header, 'x');
    checksum(pax_header);
    write_raw(pax_header.data(), block);
    write_raw(pax.data(), pax.size());
    pad_to_block(static_cast<std::int64_t>(pax.size()));
  }

  put_string(&header[0], 100, name);  // truncated when PAX carries the full path
  put_octal(&header[100], 8, entry.mode & 07777);
  put_string(&header[157], 100, entry.link_target);
  put_octal(&header[329], 8, entry.dev_major);
  put_octal(&header[337], 8, entry.dev_minor);
  fill_common(header, type_flag(entry.kind));
  checksum(header);
  write_raw(header.data(), block);
}

void TarOutput::add(const TarEntry& entry) {
  write_header(entry);
  if (entry.kind != TarEntry::Kind::File || entry.size == 0) return;
  if (entry.source.empty()) {
    throw Error(ErrorKind::Runtime, entry.path, "file entry has a size but no source");
  }
  std::FILE* in = std::fopen(entry.source.c_str(), "rbe");
  if (in == nullptr) throw Error(ErrorKind::Io, entry.source.string(), std::strerror(errno));
  std::array<char, 1 << 16> buffer{};
  std::int64_t remaining = entry.size;
  while (remaining > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(remaining, buffer.size()));
    std::size_t got = std::fread(buffer.data(), 1, want, in);
    if (got == 0) break;
    write_raw(buffer.data(), got);
    remaining -= static_cast<std::int64_t>(got);
  }
  std::fclose(in);
  if (remaining != 0) {
    throw Error(ErrorKind::Io, entry.source.string(), "file changed size while being archived",
                "make sure nothing writes to the tree during the build");
  }
  pad_to_block(entry.size);
}

void TarOutput::add_bytes(const std::string& path, std::string_view data, std::uint32_t mode, std::int64_t mtime) {
  TarEntry entry;
  entry.path = path;
  entry.mode = mode;
  entry.mtime = mtime;
  entry.size = static_cast<std::int64_t>(data.size());
  write_header(entry);
  write_raw(data.data(), data.size());
  pad_to_block(entry.size);
}

LayerBlob TarOutput::finish() {
  static const std::array<char, 2 * block> end_blocks{};
  write_raw(end_blocks.data(), end_blocks.size());
  if (compressor_) compressor_->finish();
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    throw Error(ErrorKind::Io, out_file_.string(), std::strerror(errno));
  }
  file_ = nullptr;
  finished_ = true;
  LayerBlob blob;
  blob.file = out_file_;
  blob.diff_id = raw_hash_.finish();
  blob.digest = out_hash_.finish();
  blob.size = out_size_;
  blob.media_type = compressor_ ? media_type::oci_layer_gzip : media_type::oci_layer_tar;
  return blob;
}

}  // namespace cog::builder::oci
