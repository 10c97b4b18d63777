#include "builder/oci/digest.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>

#include "support/error.hpp"

namespace cog::builder::oci {
namespace {

std::size_t hex_length(std::string_view algorithm) {
  if (algorithm == "sha256") return 64;
  if (algorithm == "sha512") return 128;
  return 0;
}

bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<Digest> Digest::try_parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto algorithm = text.substr(0, colon);
  auto hex = text.substr(colon + 1);
  if (hex_length(algorithm) == 0 || hex.size() != hex_length(algorithm) || !is_lower_hex(hex)) {
    return std::nullopt;
  }
  return Digest{std::string(algorithm), std::string(hex)};
}

Digest Digest::parse(std::string_view text) {
  if (auto digest = try_parse(text)) return *digest;
  throw Error(ErrorKind::Parse, std::string(text), "not a valid digest", "use sha256:<64 lower-case hex digits>");
}

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
  ~State() { EVP_MD_CTX_free(context); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  if (state_->context == nullptr || EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorKind::Runtime, "sha256", "OpenSSL could not start a digest");
  }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) {
  if (size > 0) EVP_DigestUpdate(state_->context, data, size);
}

Digest Sha256::finish() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> raw{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->context, raw.data(), &length);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(digits[raw[i] >> 4]);
    hex.push_back(digits[raw[i] & 0xf]);
  }
  return Digest{"sha256", std::move(hex)};
}

Digest sha256_of(std::string_view data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.finish();
}

Digest sha256_of_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, file.string(), "cannot open file for hashing");
  Sha256 hasher;
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    hasher.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw Error(ErrorKind::Io, file.string(), "read failed while hashing");
  return hasher.finish();
}

}  // namespace cog::builder::oci
