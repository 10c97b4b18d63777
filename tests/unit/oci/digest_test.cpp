#include <doctest/doctest.h>

#include "builder/oci/digest.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;

TEST_CASE("digest: parse accepts sha256:<64 lower hex> and prints it back") {
  std::string text = "sha256:" + std::string(64, 'a');
  Digest digest = Digest::parse(text);
  CHECK(digest.algorithm == "sha256");
  CHECK(digest.hex == std::string(64, 'a'));
  CHECK(digest.str() == text);
}

TEST_CASE("digest: malformed digests are rejected") {
  for (const char* bad : {"", "sha256", "sha256:", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
                          "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "sha256:zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}) {
    CAPTURE(bad);
    CHECK_FALSE(Digest::try_parse(bad).has_value());
    CHECK_THROWS_AS(Digest::parse(bad), cog::Error);
  }
}

TEST_CASE("digest: sha256 of known inputs") {
  CHECK(sha256_of("").str() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_of("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("digest: streaming equals one shot, and files hash like their bytes") {
  std::string data(200000, 'x');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Sha256 hasher;
  hasher.update(std::string_view(data).substr(0, 1234));
  hasher.update(std::string_view(data).substr(1234));
  Digest streamed = hasher.finish();
  CHECK(streamed == sha256_of(data));

  cog::test::TempDir dir;
  cog::test::write_file(dir / "blob", data);
  CHECK(sha256_of_file(dir / "blob") == streamed);
  CHECK_THROWS_AS(sha256_of_file(dir / "missing"), cog::Error);
}
