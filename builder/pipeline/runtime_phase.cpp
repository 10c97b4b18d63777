#include "builder/pipeline/runtime_phase.hpp"

#include <algorithm>
#include <fstream>
#include <optional>

#include "builder/pipeline/layer_chain.hpp"
#include "builder/pipeline/step_env.hpp"
#include "builder/pipeline/worker_build.hpp"
#include "builder/exec/debian_suites.hpp"
#include "builder/exec/install_steps.hpp"
#include "builder/exec/sandbox.hpp"
#include "support/text_file.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace cog::builder::pipeline {
namespace {

// The real file name of `soname` in the image's library directories, topmost layer first
// (symlinks followed inside the layer: Debian's are relative); nullopt when no layer has it.
std::optional<std::string> image_library(const std::vector<fs::path>& lowers, const std::string& soname) {
  for (auto lower = lowers.rbegin(); lower != lowers.rend(); ++lower) {
    for (const char* dir : {"usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "usr/local/lib"}) {
      fs::path path = *lower / dir / soname;
      std::error_code ec;
      for (int hops = 0; hops < 8 && fs::is_symlink(path, ec); ++hops) {
        const fs::path target = fs::read_symlink(path, ec);
        if (ec || target.is_absolute()) break;
        path = path.parent_path() / target;
      }
      if (fs::is_regular_file(path, ec)) return path.filename().string();
    }
  }
  return std::nullopt;
}

// The worker here embeds another Python than the image's: one compiled inside the base's root
// (builder/pipeline/worker_build.hpp), cached across builds, replaces it in the runtime layer.
void use_compiled_worker(BuildContext& ctx) {
  WorkerBuildRequest request;
  request.sources = ctx.runtime.worker_sources;
  request.base_layers = ctx.python_root;
  request.base_key = ctx.standalone_key.empty() ? ctx.base.key : ctx.standalone_key;
  request.suite = ctx.base.suite;
  request.python_version = exec::major_minor(ctx.base.python_version);
  if (!ctx.standalone_key.empty()) request.python_prefix = "/usr/local";
  request.caches = ctx.caches;
  request.env = exec::default_step_env(ctx.options.source_date_epoch);
  request.ca_bundle = exec::host_ca_bundle();
  request.cache_root = ctx.cache_root;
  request.scratch = ctx.work.path;
  request.no_cache = ctx.options.no_cache;
  const std::string what =
      "cog-worker for Python " + request.python_version +
      (ctx.standalone_key.empty() ? " (Debian " + ctx.base.suite + ")" : " (python-build-standalone)");
  const auto start = Clock::now();
  ctx.progress("  WORKER " + what + ": this cog's worker embeds " + ctx.runtime.python_version);
  auto worker = ensure_worker(request, step_output(ctx));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  ctx.progress(std::string(worker.reused ? "  CACHED " : "  DONE compiled ") + what + " " + worker.key.substr(0, 12) +
               " (" + format_seconds(elapsed) + ")");
  ctx.runtime.worker_binary = worker.binary;
  ctx.runtime.worker_libraries = worker.libraries;
  ctx.runtime.python_version = worker.python_version;
}

}  // namespace

void add_runtime(BuildContext& ctx) {
  // Only on our Debian base so far: its suite and key name the root the worker is compiled in.
  if (ctx.options.base_image.empty() &&
      (!ctx.standalone_key.empty() || ctx.runtime.python_version != exec::major_minor(ctx.base.python_version))) {
    use_compiled_worker(ctx);
  }
  // Keyed by the files' identity (path, size, mtime): restaging ~20 MB per build is the slow part.
  std::vector<std::string> inputs;
  auto identify = [&](const fs::path& file) {
    inputs.push_back(file.string() + " " + std::to_string(fs::file_size(file)) + " " +
                     std::to_string(fs::last_write_time(file).time_since_epoch().count()));
  };
  identify(ctx.runtime.server_binary);
  identify(ctx.runtime.worker_binary);
  for (const auto& [soname, file] : ctx.runtime.worker_libraries) identify(file);
  for (const auto& entry : fs::recursive_directory_iterator(ctx.runtime.sdk_dir / "cog")) {
    if (entry.is_regular_file() && entry.path().extension() == ".py") identify(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  // A base with its own `python` (python:*-slim keeps it in /usr/local/bin) keeps it.
  auto in_lowers = [&](const char* path) {
    return std::any_of(ctx.lowers.begin(), ctx.lowers.end(), [&](const fs::path& lower) {
      std::error_code ec;
      return fs::symlink_status(lower / path, ec).type() != fs::file_type::not_found;
    });
  };
  // `python` as in Cog's images: to Debian's python3, or to a python-build-standalone one.
  std::string python_link = "/usr/bin/python3";
  if (in_lowers("usr/local/bin/python")) {
    python_link.clear();
    inputs.push_back("base has /usr/local/bin/python");
  } else if (in_lowers("usr/local/bin/python3")) {
    python_link = "python3";
    inputs.push_back("python links to /usr/local/bin/python3");
  }
  // Bump when stage_runtime lays files out differently: the sources alone would not say so.
  inputs.push_back("runtime layout 3");
  const std::string description = "cog runtime (server, worker, SDK)";
  const std::string key = next_key(ctx, description, inputs);
  if (reuse(ctx, key, description)) return;
  announced(ctx, description, [&] {
    const fs::path staging = ctx.work.path / "runtime";
    stage_runtime(ctx.runtime, staging, python_link,
                  [&](const std::string& soname) { return image_library(ctx.lowers, soname); });
    oci::LayerOptions options = layer_options(ctx);
    options.preserve_owner = false;
    auto layer = ctx.image.add_layer_from_directory(staging, options, description);
    keep_layer(ctx, key, layer, staging);
  });
}

std::string pip_freeze(BuildContext& ctx) {
  const fs::path cached = ctx.cache_root / "pip-freeze" / ctx.chain_key;
  if (!ctx.options.no_cache && fs::exists(cached)) return support::read_text_file(cached);
  exec::StepSpec spec;
  spec.argv = {"python3", "-m", "pip", "freeze", "--disable-pip-version-check"};
  spec.env = step_env(ctx);
  spec.network = exec::Network::None;
  std::string output;
  exec::ExitStatus status;
  announced(ctx, "pip freeze (run.cog.pip_freeze)", [&] {
    status = exec::run_step({ctx.lowers, ctx.work.path / "upper-freeze"}, spec,
                            [&](exec::Stream stream, std::string_view line) {
                              if (stream == exec::Stream::Stdout) output += std::string(line) + "\n";
                            });
  });
  if (!status.ok()) {
    ctx.progress("warning: pip freeze failed in the image; run.cog.pip_freeze is empty");
    return "";
  }
  fs::create_directories(cached.parent_path());
  std::ofstream(cached) << output;
  return output;
}

}  // namespace cog::builder::pipeline
