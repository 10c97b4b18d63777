#include "builder/pipeline/context.hpp"

#include <cstdlib>
#include <sstream>

#include "builder/pipeline/secrets.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace cog::builder::pipeline {
BuildContext::BuildContext(const config::LoadedConfig& loaded, const BuildOptions& options,
                           const ProgressSink& progress)
    : config(loaded.config),
      options(options),
      progress(progress),
      cache_root(options.cache_dir.empty() ? oci::default_cache_root() : options.cache_dir),
      store(options.store_dir.empty() ? oci::default_store_path() : options.store_dir),
      layer_cache(oci::default_layer_cache_path(), store.layout()),
      image(store.layout()),
      work(cache_root / "tmp", "build-"),
      layer_dirs(cache_root / "layer-dirs"),
      secrets(parse_secrets(options.secrets, work.path)) {
  fs::create_directories(layer_dirs);
}

void phase(BuildContext& ctx, const std::string& name, const std::function<void()>& work) {
  const auto start = Clock::now();
  work();
  ctx.result.phases.push_back({name, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)});
}

void announced(const BuildContext& ctx, const std::string& description, const std::function<void()>& work) {
  ctx.progress("  STEP " + description);
  const auto start = Clock::now();
  work();
  ctx.progress("  DONE " + description + " (" +
               format_seconds(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)) + ")");
}

exec::LineSink step_output(const BuildContext& ctx) {
  return [&progress = ctx.progress](exec::Stream, std::string_view line) { progress("  | " + std::string(line)); };
}

std::string format_seconds(std::chrono::milliseconds elapsed) {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(1);
  text << static_cast<double>(elapsed.count()) / 1000.0 << "s";
  return text.str();
}

}  // namespace cog::builder::pipeline
