#include "builder/weights/content_store.hpp"

#include <cstdlib>
#include <fstream>
#include <random>

#include "support/error.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;

fs::path default_cache_dir() {
  if (const char* dir = std::getenv("COG_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "cog";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".cache" / "cog";
}

ContentStore::ContentStore(fs::path cache_dir) : root_(std::move(cache_dir) / "weights" / "files") {}

fs::path ContentStore::path_of(const oci::Digest& digest) const { return root_ / digest.algorithm / digest.hex; }

bool ContentStore::has(const oci::Digest& digest) const {
  std::error_code error;
  return fs::is_regular_file(path_of(digest), error);
}

void ContentStore::add(const fs::path& file, const oci::Digest& digest, bool move) {
  if (has(digest)) return;
  const fs::path final_path = path_of(digest);
  std::error_code error;
  fs::create_directories(final_path.parent_path(), error);
  if (error)
    throw Error(ErrorKind::Io, final_path.parent_path().string(), "cannot create the weights cache: " + error.message(),
                "check permissions, or point COG_CACHE_DIR somewhere writable");
  const fs::path partial =
      final_path.parent_path() / (".partial-" + digest.hex + "-" + std::to_string(std::random_device{}()));
  if (move) {
    fs::rename(file, partial, error);
    if (!error && oci::sha256_of_file(partial) != digest) {
      fs::rename(partial, file);
      throw Error(ErrorKind::Validation, file.string(), "content does not match " + digest.str(),
                  "the file changed while it was imported; run the command again");
    }
  }
  if (!move || error) {
    std::ifstream in(file, std::ios::binary);
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!in || !out)
      throw Error(ErrorKind::Io, file.string(), "cannot copy into the weights cache (" + final_path.string() + ")",
                  "check disk space and permissions");
    oci::Sha256 hasher;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      hasher.update(buffer, static_cast<std::size_t>(in.gcount()));
      out.write(buffer, in.gcount());
    }
    out.close();
    if (!out) {
      fs::remove(partial, error);
      throw Error(ErrorKind::Io, final_path.string(), "cannot write the weights cache", "check disk space");
    }
    if (hasher.finish() != digest) {
      fs::remove(partial, error);
      throw Error(ErrorKind::Validation, file.string(), "content does not match " + digest.str(),
                  "the file changed while it was read; run the command again");
    }
  }
  fs::permissions(partial, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, error);
  fs::rename(partial, final_path, error);
  if (error)
    throw Error(ErrorKind::Io, final_path.string(), "cannot store the weight file: " + error.message(),
                "check permissions");
}

}  // namespace cog::builder::weights
