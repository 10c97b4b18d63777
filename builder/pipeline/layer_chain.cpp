#include "builder/pipeline/layer_chain.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "builder/exec/sandbox.hpp"
#include "builder/oci/digest.hpp"
#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {

std::string hash_text(const std::string& text) { return oci::sha256_of(text).hex; }

std::string first_key(const BuildContext& ctx, const std::string& description, const std::string& base) {
  std::vector<std::string> inputs = {base};
  if (ctx.options.source_date_epoch != 0) inputs.push_back("epoch " + std::to_string(ctx.options.source_date_epoch));
  return next_key(ctx, description, inputs);
}

std::string next_key(const BuildContext& ctx, const std::string& description, const std::vector<std::string>& inputs) {
  std::string text = ctx.chain_key + "\n" + description;
  for (const auto& input : inputs) text += "\n" + input;
  return hash_text(text);
}

namespace {

// Layer directories are shared by diff ID, so two steps that change the same (often nothing: a
// step that only reads a secret) have one directory; overlayfs refuses a lower given twice
// (ELOOP). Only its topmost place matters: it is applied over everything it touches below.
void add_lower(BuildContext& ctx, const fs::path& dir) {
  std::erase(ctx.lowers, dir);
  ctx.lowers.push_back(dir);
}

}  // namespace

bool reuse(BuildContext& ctx, const std::string& key, const std::string& description) {
  if (ctx.options.no_cache) return false;
  auto hit = ctx.layer_cache.lookup(key);
  if (!hit) return false;
  const fs::path dir = ctx.layer_dirs / hit->diff_id.hex;
  if (!fs::exists(dir)) return false;
  ctx.image.add_layer(*hit, description);
  add_lower(ctx, dir);
  ctx.chain_key = key;
  ++ctx.result.layers_reused;
  ctx.progress("  CACHED " + description);
  return true;
}

void keep_layer(BuildContext& ctx, const std::string& key, const oci::StoredLayer& layer, const fs::path& upper) {
  ctx.layer_cache.store(key, layer);
  const fs::path dir = ctx.layer_dirs / layer.diff_id.hex;
  std::error_code ec;
  if (!fs::exists(dir)) fs::rename(upper, dir, ec);
  if (ec || fs::exists(upper)) fs::remove_all(upper, ec);
  add_lower(ctx, dir);
  ctx.chain_key = key;
  ++ctx.result.layers_built;
}

oci::LayerOptions layer_options(const BuildContext& ctx) {
  oci::LayerOptions layer;
  layer.source_date_epoch = ctx.options.source_date_epoch;
  layer.preserve_owner = true;
  return layer;
}

void sandbox_layer(BuildContext& ctx, const std::string& description, const exec::StepSpec& spec,
                   const std::vector<std::string>& inputs) {
  const std::string key = next_key(ctx, description, inputs);
  if (reuse(ctx, key, description)) return;
  announced(ctx, description, [&] {
    const fs::path upper = ctx.work.path / ("upper-" + std::to_string(++ctx.step_count));
    auto status = exec::run_step({ctx.lowers, upper}, spec, step_output(ctx));
    if (!status.ok()) {
      std::string what = status.timed_out   ? "timed out"
                         : status.cancelled ? "was cancelled"
                                            : "exited with status " + std::to_string(status.exit_code);
      throw Error(ErrorKind::Runtime, "build step `" + description + "`", what,
                  "see the step's output above; fix the command or package names in cog.yaml");
    }
    auto layer = ctx.image.add_layer_from_overlay(upper, layer_options(ctx), description);
    keep_layer(ctx, key, layer, upper);
  });
}

namespace {

fs::path shared_layer_path(const BuildContext& ctx, const std::string& key) {
  return ctx.cache_root / "shared-layers" / key;
}

}  // namespace

void share_layer(BuildContext& ctx, const std::string& key) {
  const auto layer = ctx.layer_cache.lookup(key);
  const fs::path dir = shared_layer_path(ctx, key);
  std::error_code ec;
  if (!layer || fs::exists(dir / "layer.json", ec)) return;
  fs::create_directories(dir, ec);
  const fs::path blob = dir / "blob";
  const fs::path stored = ctx.store.layout().blob_path(layer->descriptor.digest);
  fs::remove(blob, ec);
  fs::create_hard_link(stored, blob, ec);
  if (ec) fs::copy_file(stored, blob, ec);
  if (ec) return;  // only an optimisation: another store then builds the layer again
  const nlohmann::json record = {{"descriptor", oci::to_json(layer->descriptor)}, {"diff_id", layer->diff_id.str()}};
  std::ofstream(dir / "layer.json") << record.dump();
}

void adopt_shared_layer(BuildContext& ctx, const std::string& key) {
  if (ctx.options.no_cache || ctx.layer_cache.lookup(key)) return;
  const fs::path dir = shared_layer_path(ctx, key);
  std::error_code ec;
  if (!fs::exists(dir / "layer.json", ec)) return;
  try {
    std::ifstream file(dir / "layer.json");
    const auto record = nlohmann::json::parse(file);
    const oci::StoredLayer layer{oci::descriptor_from_json(record.at("descriptor")),
                                 oci::Digest::parse(record.at("diff_id").get<std::string>())};
    if (!fs::exists(ctx.layer_dirs / layer.diff_id.hex, ec)) return;
    const fs::path destination = ctx.store.layout().blob_path(layer.descriptor.digest);
    if (!fs::exists(destination, ec)) {
      fs::create_directories(destination.parent_path(), ec);
      fs::create_hard_link(dir / "blob", destination, ec);
      if (ec) ctx.store.layout().write_blob_file(dir / "blob", layer.descriptor.media_type, layer.descriptor.digest);
    }
    ctx.layer_cache.store(key, layer);
  } catch (const std::exception&) {
    // A damaged record is a miss: the layer is built as if it had never been shared.
  }
}

}  // namespace cog::builder::pipeline
