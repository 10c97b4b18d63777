#pragma once
// Base64 data URLs and the MIME type ↔ extension table the CLI uses for file inputs and outputs.
#include <optional>
#include <string>

namespace cog::runtime::local {

std::string base64_encode(const std::string& bytes);
std::optional<std::string> base64_decode(const std::string& text);

std::string mime_for_extension(const std::string& extension);  // ".png" → "image/png"
std::string extension_for_mime(const std::string& mime);       // "image/png" → ".png"

struct DataUrl {
  std::string mime;
  std::string bytes;
};
// nullopt when `url` is not a base64 data URL.
std::optional<DataUrl> parse_data_url(const std::string& url);

}  // namespace cog::runtime::local
