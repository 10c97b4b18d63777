#include "runtime/local/data_url.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace cog::runtime::local {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::pair<const char*, const char*>, 24> kTypes = {{
    {".png", "image/png"},         {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},       {".gif", "image/gif"},
    {".bmp", "image/bmp"},         {".webp", "image/webp"},
    {".svg", "image/svg+xml"},     {".tif", "image/tiff"},
    {".txt", "text/plain"},        {".json", "application/json"},
    {".csv", "text/csv"},          {".html", "text/html"},
    {".wav", "audio/wav"},         {".mp3", "audio/mpeg"},
    {".ogg", "audio/ogg"},         {".flac", "audio/flac"},
    {".mp4", "video/mp4"},         {".webm", "video/webm"},
    {".pdf", "application/pdf"},   {".zip", "application/zip"},
    {".tar", "application/x-tar"}, {".npy", "application/octet-stream"},
    {".md", "text/markdown"},      {".xml", "application/xml"},
}};

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> base64_decode(const std::string& text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z')
      value = c - 'A';
    else if (c >= 'a' && c <= 'z')
      value = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      value = c - '0' + 52;
    else if (c == '+' || c == '-')
      value = 62;
    else if (c == '/' || c == '_')
      value = 63;
    else if (c == '=' || c == '\n' || c == '\r')
      continue;
    else
      return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string mime_for_extension(const std::string& extension) {
  std::string lower;
  for (const char c : extension) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& [ext, mime] : kTypes) {
    if (lower == ext) return mime;
  }
  return "application/octet-stream";
}

std::string extension_for_mime(const std::string& mime) {
  const std::string bare = mime.substr(0, mime.find(';'));
  for (const auto& [ext, type] : kTypes) {
    if (bare == type) return ext;
  }
  return "";
}

std::optional<DataUrl> parse_data_url(const std::string& url) {
  if (!url.starts_with("data:")) return std::nullopt;
  const auto comma = url.find(',');
  if (comma == std::string::npos) return std::nullopt;
  const std::string header = url.substr(5, comma - 5);
  const auto marker = header.find(";base64");
  if (marker == std::string::npos) return std::nullopt;
  auto bytes = base64_decode(url.substr(comma + 1));
  if (!bytes) return std::nullopt;
  return DataUrl{header.substr(0, header.find(';')), std::move(*bytes)};
}

}  // namespace cog::runtime::local
