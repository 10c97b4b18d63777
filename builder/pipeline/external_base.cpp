// --base-image: the base phase for a base this builder did not make (base_phase.hpp).
#include <string>

#include "builder/pipeline/base_image.hpp"
#include "builder/pipeline/base_phase.hpp"
#include "builder/pipeline/layer_chain.hpp"
#include "builder/pipeline/step_env.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "builder/oci/digest.hpp"
#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

std::string major_minor(const std::string& version) {
  auto first = version.find('.');
  if (first == std::string::npos) return version;
  auto second = version.find('.', first + 1);
  return second == std::string::npos ? version : version.substr(0, second);
}

// A base without tini gets this machine's static tini (Debian's `tini` package), so the server
// never runs as PID 1 (which would leave zombies unreaped); without one, it does, with a warning.
void add_static_tini(BuildContext& ctx) {
  const fs::path tini = host_static_tini();
  if (tini.empty()) {
    ctx.progress(
        "warning: --base-image: the base has no tini and this machine no tini-static "
        "(apt-get install tini); the server runs as PID 1");
    return;
  }
  const std::string description = "tini (init) at /opt/cog/bin/tini";
  const std::string key = next_key(ctx, description, {oci::sha256_of_file(tini).str()});
  ctx.base.init_path = "/opt/cog/bin/tini";
  if (reuse(ctx, key, description)) return;
  const fs::path staging = ctx.work.path / "tini";
  fs::create_directories(staging / "opt/cog/bin");
  fs::copy_file(tini, staging / "opt/cog/bin/tini");
  fs::permissions(staging / "opt/cog/bin/tini", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                    fs::perms::others_read | fs::perms::others_exec);
  oci::LayerOptions options = layer_options(ctx);
  options.preserve_owner = false;
  auto layer = ctx.image.add_layer_from_directory(staging, options, description);
  keep_layer(ctx, key, layer, staging);
}

}  // namespace

// The base's layers as they are (same blobs, same digests) and its config inherited, as Docker's
// FROM does; its root, unpacked once (hostile entries rejected) and shared with `cog run`'s root
// cache, is the lowest layer of every sandboxed step.
void add_external_base(BuildContext& ctx) {
  const std::string where = "--base-image " + ctx.options.base_image;
  const std::string mirror =
      ctx.options.registry_mirror.empty() ? "" : parse_registry_mirror(ctx.options.registry_mirror);
  auto base = resolve_base_image(ctx.options.base_image, ctx.store, mirror,
                                 [&](const std::string& line) { ctx.progress(line); });
  ctx.image.from_image(ctx.store.layout(), base.manifest);
  ctx.image.set_created(ctx.options.source_date_epoch);
  check_base_platform(ctx.image.config(), ctx.options.base_image);
  const auto manifest = ctx.store.layout().read_manifest(base.manifest.digest);
  ctx.progress("  BASE " + base.source + " (" + std::to_string(manifest.layers.size()) + " layers, " +
               base.manifest.digest.str() + ")");
  ctx.lowers = unpack_base(ctx.store.layout(), base.manifest, container::default_rootfs_cache_path(),
                           ctx.options.base_image, {ctx.layer_dirs});
  ctx.result.layers_reused += static_cast<int>(manifest.layers.size());
  ctx.chain_key = first_key(ctx, "base image", base.manifest.digest.str());
  ctx.base_env = ctx.image.config().config.env;
  // `build.run` commands run where the base's WORKDIR points, as RUN after FROM does.
  const std::string& workdir = ctx.image.config().config.working_dir;
  if (auto dir = resolve_in_root(ctx.lowers.front(), workdir); !workdir.empty() && dir && fs::is_directory(*dir)) {
    ctx.base_workdir = workdir;
  }

  auto facts = inspect_base(ctx.lowers, step_env(ctx), ctx.work.path);
  ctx.base.rootfs = ctx.lowers.front();
  ctx.base.suite = facts.apt_suite;
  ctx.base.python_version = facts.python_version;
  ctx.base.init_path = facts.init_path;
  ctx.base.key = base.manifest.digest.hex;
  if (facts.python_version.empty()) {
    throw Error(ErrorKind::Compatibility, where, "the base image has no python3 on its PATH",
                "use a base image with Python " + ctx.runtime.python_version + " installed as python3");
  }
  // Python mismatch check: the worker embeds one Python, the base brings its own.
  const std::string base_python = major_minor(facts.python_version);
  if (base_python != ctx.runtime.python_version) {
    throw Error(ErrorKind::Compatibility, where,
                "the base image has Python " + facts.python_version + ", this cog's worker embeds Python " +
                    ctx.runtime.python_version,
                "use a base image with Python " + ctx.runtime.python_version);
  }
  if (facts.libpython.empty()) {
    ctx.progress("warning: --base-image: no libpython" + base_python +
                 ".so.1.0 in the base's usual library directories; the worker embeds it, so the image "
                 "may not start (install the base's libpython" +
                 base_python + " package)");
  }
  const auto& written = ctx.config.build.python_version_as_written;
  if (!written.empty() && major_minor(written) != base_python) {
    ctx.progress("warning: build.python_version: " + written + " is ignored, the base image has Python " +
                 facts.python_version);
  }
  if (ctx.base.init_path.empty()) add_static_tini(ctx);
}

}  // namespace cog::builder::pipeline
