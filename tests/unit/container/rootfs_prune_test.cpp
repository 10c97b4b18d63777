// cog rmi's rootfs prune reads every stored image's layers; an image another cog untags (its blobs
// collected) meanwhile, or a damaged entry, must not fail the rmi nor let it prune on a partial view.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "builder/container/rootfs_cache.hpp"
#include "builder/oci/descriptor.hpp"
#include "builder/oci/store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using cog::test::TempDir;
namespace oci = cog::builder::oci;

namespace {

// Sets environment variables for one test case and puts the old values back after it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("rootfs: an unreadable stored image stops the prune instead of failing it or pruning blind") {
  TempDir temp;
  const fs::path dir = temp.path;
  ScopedEnv data("XDG_DATA_HOME", (dir / "xdg").string());
  ScopedEnv cache("COG_ROOTFS_CACHE", (dir / "rootfs").string());
  ScopedEnv grace("COG_ROOTFS_GRACE_SECONDS", "0");
  oci::ImageStore store(dir / "xdg/cog/images");
  REQUIRE(oci::is_shared_store(store.layout().root()));

  const std::string unused(64, 'a');  // an unpacked layer no stored image names
  fs::create_directories(dir / "rootfs" / unused);
  oci::Descriptor gone;  // a manifest whose blobs another cog has just collected
  gone.media_type = oci::media_type::oci_manifest;
  gone.digest = oci::Digest::parse("sha256:" + std::string(64, 'b'));
  gone.size = 2;
  store.tag("damaged", gone);

  CHECK(cog::builder::container::prune_unused_rootfs(store) == 0);
  CHECK(fs::exists(dir / "rootfs" / unused));

  REQUIRE(store.remove("damaged"));
  CHECK(cog::builder::container::prune_unused_rootfs(store) == 1);
  CHECK_FALSE(fs::exists(dir / "rootfs" / unused));
}
