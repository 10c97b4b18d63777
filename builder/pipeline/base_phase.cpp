#include "builder/pipeline/base_phase.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "builder/pipeline/layer_chain.hpp"
#include "builder/pipeline/python_standalone.hpp"
#include "builder/pipeline/schema_phase.hpp"
#include "builder/exec/debian_base.hpp"
#include "builder/exec/debian_suites.hpp"
#include "builder/oci/digest.hpp"
#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

// Where the image's Python comes from: Debian's package when a suite offers python_version (a
// major.minor: cog.yaml's patch level is stripped when it is read, as Cog does), else the newest
// python-build-standalone archive of it from COG_PYTHON_STANDALONE (nullopt for Debian). Nothing
// is substituted: with neither, the error names what both offer.
std::optional<StandaloneArchive> standalone_python(const BuildContext& ctx) {
  const std::string& wanted = ctx.config.build.python_version;
  const auto suites = exec::python_suites();
  const bool debian_offers = std::any_of(
      suites.begin(), suites.end(), [&](const exec::DebianSuite& suite) { return suite.python_version == wanted; });
  if (debian_offers) return std::nullopt;  // the archives are not even listed, nor warned about
  const char* setting = std::getenv(kPythonStandaloneVariable);
  const auto offer = standalone_archives(setting ? setting : "");
  for (const auto& skipped : offer.skipped) {
    ctx.progress(std::string("warning: ") + kPythonStandaloneVariable + ": " + skipped);
  }
  if (auto picked = pick_standalone(offer.archives, wanted)) return picked;
  std::string archives;
  for (const auto& archive : offer.archives) archives += (archives.empty() ? "" : ", ") + archive.version;
  throw Error(ErrorKind::Compatibility, "build.python_version",
              "Python " + wanted + " is not available: the Debian mirror this builder uses offers only " +
                  exec::debian_python_offers() + ", and " + kPythonStandaloneVariable +
                  (setting && *setting ? " offers " + (archives.empty() ? std::string("no usable archive") : archives)
                                       : std::string(" (python-build-standalone archives) is not set")),
              "set build.python_version to one of those, or list a python-build-standalone install_only "
              "archive of Python " +
                  wanted + " (a file, a directory of them or a URL) in " + kPythonStandaloneVariable);
}

// The archive's python/ tree as /usr/local, one layer over the Python-less Debian base, keyed by
// the archive's content; the worker is compiled against it (runtime_phase.cpp).
void add_standalone_python(BuildContext& ctx, const StandaloneArchive& archive) {
  const fs::path file = fetch_standalone(archive, ctx.cache_root, [&](const std::string& line) { ctx.progress(line); });
  const std::string digest = oci::sha256_of_file(file).str();
  const std::string description = "python " + archive.version + " (" + archive.file_name + ") at /usr/local";
  const std::string key = next_key(ctx, "python-build-standalone", {digest, "layout 1"});
  ctx.standalone_key = hash_text(ctx.base.key + "\n" + digest);
  if (!reuse(ctx, key, description)) {
    announced(ctx, description, [&] {
      const fs::path staging = ctx.work.path / "python";
      unpack_standalone(file, staging, archive.version);
      oci::LayerOptions options = layer_options(ctx);
      options.preserve_owner = false;
      auto layer = ctx.image.add_layer_from_directory(staging, options, description);
      keep_layer(ctx, key, layer, staging);
    });
  }
  ctx.python_root = ctx.lowers;
}

}  // namespace

void add_base(BuildContext& ctx) {
  if (!ctx.options.base_image.empty()) {
    add_external_base(ctx);
    return;
  }
  const auto standalone = standalone_python(ctx);
  exec::BaseRequest request;
  request.python_version = ctx.config.build.python_version;
  if (standalone) {
    request.with_python = false;
    ctx.progress("  BASE Debian without Python; Python " + standalone->version + " from " + standalone->file_name);
  } else {
    // The worker links libpython; Debian's python3 binary does not pull the shared library in.
    request.extra_packages = {"libpython" + ctx.config.build.python_version};
    ctx.progress("  BASE Debian with Python " + ctx.config.build.python_version);
  }
  ctx.base = exec::ensure_debian_base(request, step_output(ctx));
  if (standalone) ctx.base.python_version = standalone->version;
  ctx.python_root = {ctx.base.rootfs};
  // A worker for another Python is compiled inside the image's root (runtime_phase.cpp): its
  // sources must be at hand, which is checked before any layer is written.
  if ((standalone || ctx.runtime.python_version != exec::major_minor(ctx.base.python_version)) &&
      ctx.runtime.worker_sources.empty()) {
    throw Error(ErrorKind::Compatibility, "build.python_version",
                "this cog's worker embeds Python " + ctx.runtime.python_version + ", the image has " +
                    ctx.base.python_version +
                    ", and the worker's sources (worker-src/ beside cog-worker) are "
                    "missing, so no worker can be compiled for it",
                "rebuild cog (target cog-worker), set COG_RUNTIME_DIR to a directory holding cog-server, "
                "cog-worker and worker-src/, or use python_version: \"" +
                    ctx.runtime.python_version + "\"");
  }
  if (ctx.schema_in_base && !standalone) phase(ctx, "schema", [&] { make_schema_in_base(ctx); });
  ctx.image.from_scratch();
  ctx.image.set_created(ctx.options.source_date_epoch);
  const std::string description =
      "debian " + ctx.base.suite + " base (" + (standalone ? std::string("no Python") : ctx.base.python_version) + ")";
  const std::string key = first_key(ctx, "base", ctx.base.key);
  if (!ctx.options.no_cache) {
    if (auto hit = ctx.layer_cache.lookup(key)) {
      ctx.image.add_layer(*hit, description);
      ++ctx.result.layers_reused;
      ctx.progress("  CACHED " + description);
    }
  }
  if (ctx.image.layers().empty()) {
    auto layer = ctx.image.add_layer_from_directory(ctx.base.rootfs, layer_options(ctx), description);
    ctx.layer_cache.store(key, layer);
    ++ctx.result.layers_built;
  }
  ctx.lowers.push_back(ctx.base.rootfs);
  ctx.chain_key = key;
  if (standalone) {
    add_standalone_python(ctx, *standalone);
    if (ctx.schema_in_base) phase(ctx, "schema", [&] { make_schema_in_base(ctx); });
  }
}

}  // namespace cog::builder::pipeline
