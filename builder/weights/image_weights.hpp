#pragma once
// Weights of a named image (`cog run IMAGE`): the /.cog/weights.json it carries (names, targets,
// set digests), matched by set digest against the current project's weights.lock or against what
// the weights cache remembers of sets it holds, then pulled where needed and mounted read-only.
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "builder/registry/transfer.hpp"
#include "builder/weights/content_store.hpp"
#include "builder/weights/lockfile.hpp"
#include "builder/weights/runtime.hpp"

namespace cog::builder::weights {

struct ImageWeight {
  std::string name;
  std::string target;
  std::string set_digest;
};

// {"weights":[{"name","target","setDigest"}]}; throws cog::Error(Parse) naming `where` and the field.
std::vector<ImageWeight> parse_runtime_manifest(const std::string& text, const std::string& where);

// /.cog/weights.json of `image` in the local image store (empty when it has none). What an image
// carries never changes, so the answer is remembered per manifest digest under
// <cache>/weights/images/ and the layers are read once.
std::vector<ImageWeight> stored_image_weights(const std::string& image, const ContentStore& store);

// The cache's own record of a weight's files, by set digest (<cache>/weights/sets/<hex>.json),
// written whenever all of them are in the store: a named image's weights then mount without a
// project. `remembered_set` checks the record against the set digest; nullopt without one.
void remember_set(const ContentStore& store, const LockedWeight& weight);
std::optional<std::vector<LockedFile>> remembered_set(const ContentStore& store, const std::string& set_digest);

// For `cog run IMAGE`: null when the image names no weights. Each weight is looked up by set
// digest in the weights.lock of the project around `start_dir` (missing files pulled, messages to
// `out`), else in the cache's records; the files are linked under <cache>/weights/mounts/<id>/.
// Throws cog::Error(NotFound) naming the weight and `cog weights pull` when neither has it.
std::unique_ptr<PreparedMounts> prepare_image_mounts(const std::string& image, const std::filesystem::path& start_dir,
                                                     const std::string& config_file,
                                                     const registry::TransferOptions& transfer, std::ostream* out);

}  // namespace cog::builder::weights
