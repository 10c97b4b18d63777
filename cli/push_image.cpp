#include "cli/push_image.hpp"

#include <iostream>

#include "builder/oci/store.hpp"
#include "builder/registry/push.hpp"
#include "builder/registry/login.hpp"
#include "builder/weights/lockfile.hpp"
#include "builder/weights/runtime.hpp"
#include "cli/progress_view.hpp"
#include "support/error.hpp"

namespace cog::cli {
namespace {

builder::registry::TransferOptions transfer_options(const PushSettings& settings,
                                                    builder::registry::TransferStats& stats) {
  auto options = builder::registry::transfer_options_from_environment();
  options.client.insecure = settings.insecure;
  if (!settings.ca_bundle.empty()) options.client.tls.ca_bundle = settings.ca_bundle;
  options.progress = settings.progress == "quiet" ? nullptr : &std::cerr;
  options.live_progress = progress_is_live(settings.progress);
  options.stats = &stats;
  return options;
}

void print_pushed(const builder::registry::PushResult& result, const builder::registry::Reference& target,
                  const builder::registry::TransferStats& stats, const PushSettings& settings) {
  std::cerr << "Pushed " << result.reference << "@" << result.digest.str() << "\n";
  if (settings.debug) std::cerr << "push stats: " << stats.summary() << "\n";
  if (target.registry == builder::registry::kReplicateRegistryHost)
    std::cerr << "\nRun your model on Replicate:\n    https://replicate.com/" << target.repository << "\n";
}

}  // namespace

builder::registry::PushResult push_stored_image(const std::string& stored_name,
                                                const builder::registry::Reference& target,
                                                const PushSettings& settings) {
  builder::oci::ImageStore store(builder::oci::default_store_path());
  auto manifest = store.find(stored_name);
  if (!manifest) manifest = store.find(target.str());
  if (!manifest)
    throw cog::Error(cog::ErrorKind::NotFound, target.str(), "no such image in the local image store",
                     "build it first with `cog build -t " + stored_name + "`, or name one with --from");
  std::cerr << "Pushing to " << target.str() << "...\n";
  builder::registry::TransferStats stats;
  auto result = builder::registry::push_image(store.layout(), *manifest, target, transfer_options(settings, stats));
  print_pushed(result, target, stats, settings);
  return result;
}

void push_weights_index_if_any(const builder::config::Config& config, const builder::registry::Reference& target,
                               const builder::registry::PushResult& pushed, const PushSettings& settings) {
  auto lock = builder::weights::require_current_lock(config);
  if (!lock || lock->weights.empty()) return;
  builder::registry::TransferStats stats;
  const auto index =
      builder::weights::push_weights_index(target.str(), pushed.digest.str(), *lock, transfer_options(settings, stats));
  std::cerr << "model   " << target.str() << "@" << index << "\n";
  std::cerr << "  image   " << pushed.digest.str() << "\n";
  for (const auto& weight : lock->weights) std::cerr << "  weight  " << weight.name << "  " << weight.digest << "\n";
}

void push_from(const std::string& from, const builder::registry::Reference& target, const PushSettings& settings) {
  std::cerr << "Pushing to " << target.str() << "...\n";
  builder::registry::TransferStats stats;
  auto result = builder::registry::push_image(from, target, transfer_options(settings, stats));
  print_pushed(result, target, stats, settings);
}

}  // namespace cog::cli
