#pragma once
// Content digests (`sha256:<64 hex>`): parsing, validation, and streaming SHA-256.
#include <compare>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cog::builder::oci {

struct Digest {
  std::string algorithm;  // only "sha256" is produced; "sha512" is accepted when parsing
  std::string hex;        // lower-case

  // Throws cog::Error(Parse) unless `text` is `<algorithm>:<hex>` of the right length.
  static Digest parse(std::string_view text);
  static std::optional<Digest> try_parse(std::string_view text);

  std::string str() const { return algorithm + ":" + hex; }
  bool empty() const { return hex.empty(); }
  auto operator<=>(const Digest&) const = default;
};

// Streaming SHA-256: feed bytes with update(), then finish() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  Digest finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Digest sha256_of(std::string_view data);
Digest sha256_of_file(const std::filesystem::path& file);  // throws cog::Error(Io)

}  // namespace cog::builder::oci
