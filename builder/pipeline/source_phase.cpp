#include "builder/pipeline/source_phase.hpp"

#include <algorithm>
#include <fstream>

#include "builder/pipeline/dockerignore.hpp"
#include "builder/pipeline/layer_chain.hpp"
#include "builder/config/compat.hpp"
#include "builder/oci/digest.hpp"
#include "builder/oci/tar_writer.hpp"
#include "builder/weights/lockfile.hpp"
#include "builder/weights/runtime.hpp"
#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

// Managed weights whose source is a path inside the project: they reach the container as mounts
// (docs/weights.md), so the image does not carry them a second time.
bool is_managed_weight_source(const BuildContext& ctx, const std::string& relative) {
  for (const auto& weight : ctx.config.weights) {
    for (const auto& source : weight.sources) {
      if (source.uri.find("://") != std::string::npos && !source.uri.starts_with("file://")) continue;
      fs::path path = source.uri.starts_with("file://") ? source.uri.substr(7) : source.uri;
      if (path.is_relative()) path = ctx.config.project_dir / path;
      const std::string inside = path.lexically_normal().lexically_relative(ctx.config.project_dir).generic_string();
      if (inside.empty() || inside == "." || inside.starts_with("..")) continue;
      const std::string trimmed = inside.ends_with("/") ? inside.substr(0, inside.size() - 1) : inside;
      if (relative == trimmed || relative.starts_with(trimmed + "/")) return true;
    }
  }
  return false;
}

bool is_weight(const BuildContext& ctx, const std::string& relative) {
  if (is_managed_weight_source(ctx, relative)) return true;
  for (const auto& dir : ctx.plan.weights.dirs) {
    if (relative == dir || relative.starts_with(dir + "/")) return true;
  }
  return std::find(ctx.plan.weights.files.begin(), ctx.plan.weights.files.end(), relative) !=
         ctx.plan.weights.files.end();
}

}  // namespace

void add_local_artifacts(BuildContext& ctx, exec::StepSpec& spec, std::vector<std::string>& inputs) {
  if (ctx.plan.local_artifacts.empty()) return;
  const fs::path staging = ctx.work.path / "local_package_artifacts";
  for (const auto& artifact : ctx.plan.local_artifacts) {
    const fs::path source = ctx.config.project_dir / artifact;
    if (!fs::is_regular_file(source)) {
      throw Error(ErrorKind::NotFound, "python_requirements: " + artifact, "the file does not exist",
                  "build it first, or fix the path in the requirements");
    }
    fs::create_directories((staging / artifact).parent_path());
    fs::copy_file(source, staging / artifact, fs::copy_options::overwrite_existing);
    inputs.push_back("local artifact " + artifact + " " + oci::sha256_of_file(staging / artifact).str());
  }
  spec.binds.push_back({staging, std::string(config::kLocalArtifactsDir), true});
  std::vector<std::string> argv = {"/bin/sh", "-c",
                                   "\"$0\" \"$@\" && python3 -m pip uninstall --yes --quiet "
                                   "--disable-pip-version-check --root-user-action=ignore cog coglet"};
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  spec.argv = std::move(argv);
}

// Like Cog's `COPY --link`, the layer depends only on the weights' content, never on the layers
// below: a new requirement or a code change does not re-tar gigabytes. Nothing after it in the
// chain is keyed on it (only the source layer follows), so it leaves the chain key alone.
void add_weights(BuildContext& ctx, const std::string& path) {
  oci::LayerOptions options = layer_options(ctx);
  options.preserve_owner = false;
  options.prefix = "src";
  options.exclude = [&](const std::string& relative, bool is_directory) {
    const bool inside = relative == path || relative.starts_with(path + "/");
    const bool parent = is_directory && path.starts_with(relative + "/");
    return !inside && !parent;
  };
  auto entries = oci::collect_entries(ctx.config.project_dir, options);
  std::string content = "weights layer 1\n" + path + "\n" + std::to_string(ctx.options.source_date_epoch);
  for (const auto& entry : entries) {
    content += "\n" + entry.path + " " + std::to_string(static_cast<int>(entry.kind)) + " " +
               std::to_string(entry.mode) + " " + entry.link_target;
    if (entry.kind == oci::TarEntry::Kind::File && !entry.source.empty()) {
      content += " " + oci::sha256_of_file(entry.source).str();
    }
  }
  const std::string key = hash_text(content);
  const std::string description = "COPY --link " + path + " /src/" + path;
  if (!ctx.options.no_cache) {
    if (auto hit = ctx.layer_cache.lookup(key)) {
      ctx.image.add_layer(*hit, description);
      ++ctx.result.layers_reused;
      ctx.progress("  CACHED " + description);
      return;
    }
  }
  announced(ctx, description, [&] {
    auto blob = oci::write_layer(std::move(entries), ctx.work.path / "weights.tar.gz", options);
    auto descriptor = ctx.store.layout().write_blob_file(blob.file, blob.media_type, blob.digest, true);
    oci::StoredLayer layer{descriptor, blob.diff_id};
    ctx.image.add_layer(layer, description);
    ctx.layer_cache.store(key, layer);
    ++ctx.result.layers_built;
  });
}

void add_source(BuildContext& ctx) {
  const auto ignore = DockerIgnore::for_project(ctx.config.project_dir);
  oci::LayerOptions options = layer_options(ctx);
  options.preserve_owner = false;
  options.prefix = "src";
  options.exclude = [&](const std::string& relative, bool) {
    return relative == ".cog" || relative.starts_with(".cog/") || ignore.excluded(relative) || is_weight(ctx, relative);
  };
  auto entries = oci::collect_entries(ctx.config.project_dir, options);
  // The schema at /src/.cog/openapi_schema.json, and a non-default config file as /src/cog.yaml.
  const fs::path schema_file = ctx.config.project_dir / ".cog" / "openapi_schema.json";
  entries.push_back({.path = "src/.cog", .kind = oci::TarEntry::Kind::Directory, .mode = 0755});
  entries.push_back({.path = "src/.cog/openapi_schema.json",
                     .mode = 0644,
                     .size = static_cast<std::int64_t>(fs::file_size(schema_file)),
                     .source = schema_file});
  if (ctx.options.config_file_name != "cog.yaml") {
    std::erase_if(entries, [](const oci::TarEntry& entry) { return entry.path == "src/cog.yaml"; });
    entries.push_back({.path = "src/cog.yaml",
                       .mode = 0644,
                       .size = static_cast<std::int64_t>(fs::file_size(ctx.config.config_path)),
                       .source = ctx.config.config_path});
  }
  // Managed weights: /.cog/weights.json tells the runtime what is mounted where (§1.14).
  if (auto lock = weights::require_current_lock(ctx.config)) {
    const fs::path weights_file = ctx.config.project_dir / ".cog" / "weights.json";
    std::ofstream(weights_file, std::ios::binary | std::ios::trunc) << weights::runtime_manifest_json(*lock);
    entries.push_back({.path = ".cog", .kind = oci::TarEntry::Kind::Directory, .mode = 0755});
    entries.push_back({.path = ".cog/weights.json",
                       .mode = 0644,
                       .size = static_cast<std::int64_t>(fs::file_size(weights_file)),
                       .source = weights_file});
  }
  announced(ctx, "COPY . /src", [&] {
    auto blob = oci::write_layer(std::move(entries), ctx.work.path / "source.tar.gz", options);
    auto descriptor = ctx.store.layout().write_blob_file(blob.file, blob.media_type, blob.digest, true);
    ctx.image.add_layer({descriptor, blob.diff_id}, "COPY . /src");
    ++ctx.result.layers_built;
  });
}

}  // namespace cog::builder::pipeline
