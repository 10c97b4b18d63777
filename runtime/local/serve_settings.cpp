#include "runtime/local/serve_settings.hpp"

namespace cog::runtime::local {

std::vector<std::string> server_flags(const ServeSettings& settings) {
  std::vector<std::string> flags = {"--host", settings.host};
  if (settings.mode == "train") flags.insert(flags.end(), {"--x-mode", "train"});
  if (!settings.upload_url.empty()) flags.insert(flags.end(), {"--upload-url", settings.upload_url});
  if (settings.await_explicit_shutdown) flags.insert(flags.end(), {"--await-explicit-shutdown", "true"});
  return flags;
}

}  // namespace cog::runtime::local
