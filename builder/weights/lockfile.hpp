#pragma once
// weights.lock: what `cog weights import` packed and pushed, so that build/run/serve/push and
// `cog weights pull` know the exact content of every weight without asking the sources again.
// JSON, two-space indented, keys in a fixed order, written atomically beside cog.yaml.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/config/config.hpp"

namespace cog::builder::weights {

inline constexpr int kLockVersion = 1;
inline constexpr const char* kLockFileName = "weights.lock";
// The envelope every weight is shipped in: an OCI manifest of this artifactType (see docs/weights.md).
inline constexpr const char* kEnvelopeFormat = "application/vnd.cog.weight.v1";

struct LockedSource {
  std::string uri;
  std::string fingerprint;  // sha256 over the source's files ("<digest>  <path>\n", sorted by path)
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string imported_at;  // RFC 3339 UTC
};

struct LockedFile {
  std::string path;  // relative to the weight's target
  std::int64_t size = 0;
  std::string digest;  // sha256 of the content
  std::string layer;   // digest of the layer holding it
};

struct LockedLayer {
  std::string digest;
  std::string media_type;
  std::int64_t size = 0;               // bytes of the (compressed) blob
  std::int64_t size_uncompressed = 0;  // bytes of the tar
};

struct LockedWeight {
  std::string name;
  std::string target;
  std::vector<LockedSource> sources;
  std::string digest;                // of the weight's OCI manifest in the model repository
  std::string set_digest;            // of the file set alone (see set_digest()); names the content, not the packing
  std::int64_t size = 0;             // sum of the file sizes
  std::int64_t size_compressed = 0;  // sum of the layer sizes
  std::vector<LockedFile> files;     // sorted by path
  std::vector<LockedLayer> layers;
};

struct WeightsLock {
  int version = kLockVersion;
  std::string envelope_format = kEnvelopeFormat;
  std::vector<LockedWeight> weights;

  const LockedWeight* find(const std::string& name) const;
};

// Every name, file path and target a lock, an image's /.cog/weights.json or the cache's set
// records carry becomes a path on this machine (mounts/<name>/<path>) or in the container, and an
// image or a lock may come from anyone: they are checked wherever one is read.
// An OCI-safe weight name, as cog.yaml requires: [a-z0-9]+ joined by single '.', '_' or '-'.
bool is_weight_name(std::string_view name);
// A relative path of plain names: not absolute, no empty, "." or ".." component.
bool is_inner_path(std::string_view path);
// An absolute path other than "/" with no "." or ".." component.
bool is_weight_target(std::string_view target);

// sha256 of "<digest>  <path>\n" lines sorted by path (sha256sum's format): the identity of a set
// of files, whatever layers carry them.
std::string set_digest(std::vector<LockedFile> files);

std::string to_json_text(const WeightsLock& lock);
// Throws cog::Error(Parse) naming `where` and the field when the text is not a weights.lock.
WeightsLock parse_lock(const std::string& text, const std::string& where);

std::filesystem::path lock_path(const config::Config& config);  // <project>/weights.lock
// nullopt when there is no weights.lock; throws when it cannot be read or parsed.
std::optional<WeightsLock> read_lock(const std::filesystem::path& file);
void write_lock(const std::filesystem::path& file, const WeightsLock& lock);

// What differs between a cog.yaml weight and its lock entry ("" when they agree): the name
// missing, another target, other sources or globs.
std::string drift(const config::Weight& weight, const LockedWeight* locked);

// For build/run/serve/push: throws cog::Error(Validation) naming cog.yaml and weights.lock and
// saying `run cog weights import` when any weight of `config` drifted from weights.lock (or the
// lock is missing). Does nothing for a config without weights. Returns the lock otherwise.
std::optional<WeightsLock> require_current_lock(const config::Config& config);

}  // namespace cog::builder::weights
