#include "builder/pipeline/base_image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <ostream>
#include <streambuf>
#include <regex>

#include "builder/container/rootfs_cache.hpp"
#include "builder/exec/sandbox.hpp"
#include "builder/oci/transport.hpp"
#include "builder/registry/pull.hpp"
#include "support/error.hpp"
#include "support/path_components.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

constexpr int kMaxSymlinks = 40;

// The pull's plain progress lines (one per blob when it is done), forwarded to the build's sink.
class LineForwarder : public std::streambuf {
 public:
  explicit LineForwarder(const std::function<void(const std::string&)>& sink) : sink_(sink) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    if (c == '\n' || c == '\r') {
      if (!line_.empty()) sink_("    " + line_);
      line_.clear();
    } else {
      line_ += static_cast<char>(c);
    }
    return c;
  }

 private:
  const std::function<void(const std::string&)>& sink_;
  std::string line_;
};

// Pulls `ref` (linux/amd64) into the store; the mirror is tried when the registry cannot be reached.
oci::Descriptor pull_base(const registry::Reference& ref, oci::ImageStore& store, const std::string& mirror_host,
                          const std::function<void(const std::string&)>& progress, std::string& source) {
  auto options = registry::transfer_options_from_environment();
  options.platform = oci::Platform{};  // linux/amd64: what every build targets
  LineForwarder forwarder(progress);
  std::ostream progress_stream(&forwarder);
  options.progress = &progress_stream;
  progress("  PULL " + ref.str());
  try {
    source = "registry " + ref.str();
    return registry::pull_image(ref, store.layout(), options);
  } catch (const Error& origin_error) {
    if (origin_error.kind() != ErrorKind::Io) throw;
    if (mirror_host.empty()) {
      throw Error(ErrorKind::Io, origin_error.where(), origin_error.message(),
                  (origin_error.fix().empty() ? "" : origin_error.fix() + ", ") +
                      "or pull through a mirror: --registry-mirror HOST (COG_REGISTRY_MIRROR)");
    }
    const auto mirrored = on_mirror(ref, mirror_host);
    progress("  " + ref.registry + " cannot be reached (" + origin_error.message() + "); pulling " + mirrored.str() +
             " from the mirror");
    try {
      source = "registry mirror " + mirrored.str();
      return registry::pull_image(mirrored, store.layout(), options);
    } catch (const Error& mirror_error) {
      throw Error(mirror_error.kind(), "--base-image " + ref.str(),
                  "the registry cannot be reached (" + origin_error.message() + ") and the mirror " + mirror_host +
                      " failed too: " + mirror_error.message(),
                  mirror_error.fix().empty() ? "check --registry-mirror / COG_REGISTRY_MIRROR" : mirror_error.fix());
    }
  }
}

std::string os_release_codename(const fs::path& rootfs) {
  for (const char* candidate : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto file = resolve_in_root(rootfs, candidate);
    if (!file || !fs::is_regular_file(*file)) continue;
    std::ifstream in(*file);
    std::string line, id, codename;
    while (std::getline(in, line)) {
      auto value = [&](const std::string& prefix) {
        std::string text = line.substr(prefix.size());
        if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'')) text = text.substr(1, text.size() - 2);
        return text;
      };
      if (line.starts_with("ID=")) id = value("ID=");
      if (line.starts_with("VERSION_CODENAME=")) codename = value("VERSION_CODENAME=");
    }
    // The apt caches are kept per suite: give non-Debian releases their own.
    static const std::regex safe("^[A-Za-z0-9._-]+$");
    if (codename.empty() || !std::regex_match(codename, safe)) return "unknown";
    if (id == "debian" || !std::regex_match(id, safe)) return codename;
    return id + "-" + codename;
  }
  return "unknown";
}

// An index (a multi-platform image in a layout or the store) gives its linux/amd64 manifest.
oci::Descriptor for_amd64(const oci::Layout& layout, const oci::Descriptor& found, const std::string& text) {
  if (!oci::media_type::is_index(found.media_type)) return found;
  auto chosen = registry::select_platform(layout.read_blob(found.digest), oci::Platform{}, "--base-image " + text);
  if (!layout.has_blob(chosen.digest)) {
    throw Error(ErrorKind::NotFound, "--base-image " + text, "the index's linux/amd64 image is not in it",
                "copy the image with all its platforms, or only linux/amd64");
  }
  chosen.platform.reset();
  chosen.annotations.clear();
  return chosen;
}

}  // namespace

std::string parse_registry_mirror(const std::string& text) {
  std::string host = text;
  for (const char* scheme : {"https://", "http://"}) {
    if (host.starts_with(scheme)) host = host.substr(std::string(scheme).size());
  }
  while (!host.empty() && host.back() == '/') host.pop_back();
  static const std::regex pattern(R"(^(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$)");
  if (!std::regex_match(host, pattern)) {
    throw Error(ErrorKind::Usage, "--registry-mirror " + text, "not a registry host",
                "give HOST or HOST:PORT, e.g. --registry-mirror mirror.example.com:5000");
  }
  return host;
}

registry::Reference on_mirror(const registry::Reference& ref, const std::string& mirror_host) {
  registry::Reference mirrored = ref;
  mirrored.registry = mirror_host;
  return mirrored;
}

ResolvedBase resolve_base_image(const std::string& text, oci::ImageStore& store, const std::string& mirror_host,
                                const std::function<void(const std::string&)>& progress) {
  ResolvedBase base;
  auto reference = oci::parse_image_reference(text);
  if (reference.transport != oci::ImageReference::Transport::Store) {
    if (!fs::exists(reference.path)) {
      throw Error(ErrorKind::NotFound, "--base-image " + text, reference.path.string() + " does not exist",
                  "give an existing oci:DIR[:TAG] layout or docker-archive:FILE");
    }
    try {
      base.manifest = for_amd64(store.layout(), oci::load_image(reference, store.layout()), text);
    } catch (const Error& error) {
      throw Error(error.kind(), "--base-image " + text, error.where() + ": " + error.message(),
                  error.fix().empty() ? "check that it is an image written by cog build -o, skopeo or docker save"
                                      : error.fix());
    }
    base.source = reference.str();
    return base;
  }
  // A name the local store holds is used as it is (as Docker uses a local image before pulling).
  if (auto found = store.find(oci::normalize_image_name(text))) {
    found->annotations.clear();
    base.manifest = for_amd64(store.layout(), *found, text);
    base.source = "store image " + oci::normalize_image_name(text);
    return base;
  }
  registry::Reference ref;
  try {
    ref = registry::parse_reference(text);
  } catch (const Error& error) {
    throw Error(ErrorKind::NotFound, "--base-image " + text,
                "not an image in the local store, nor a registry reference (" + error.message() + ")",
                "give oci:DIR[:TAG], docker-archive:FILE, a stored image (cog images) or REGISTRY/REPO:TAG");
  }
  try {
    base.manifest = pull_base(ref, store, mirror_host, progress, base.source);
  } catch (const Error& error) {
    throw Error(error.kind(), "--base-image " + text,
                "not in the local store, and pulling " + ref.str() + " failed: " + error.message(),
                error.fix().empty() ? "check the reference, or name a stored image (cog images)" : error.fix());
  }
  return base;
}

std::vector<fs::path> unpack_base(const oci::Layout& layout, const oci::Descriptor& manifest,
                                  const fs::path& rootfs_cache, const std::string& source,
                                  const std::vector<fs::path>& layer_donors) {
  try {
    const auto parsed = layout.read_manifest(manifest.digest);
    return container::RootfsCache(rootfs_cache, layer_donors).ensure(layout, parsed, layout.read_config(parsed));
  } catch (const Error& error) {
    throw Error(error.kind(), "--base-image " + source,
                "cannot unpack the base: " + error.where() + ": " + error.message(),
                error.fix().empty() ? "use a trusted base image" : error.fix());
  }
}

void check_base_platform(const oci::ImageConfig& config, const std::string& source) {
  if (config.platform.os != "linux" || config.platform.architecture != "amd64") {
    throw Error(ErrorKind::Compatibility, "--base-image " + source,
                "the image is for " + config.platform.os + "/" + config.platform.architecture +
                    ", the build targets linux/amd64",
                "use the linux/amd64 variant of the base image");
  }
}

std::optional<fs::path> resolve_in_root(const fs::path& rootfs, const std::string& path) {
  std::vector<std::string> pending = support::path_components(path);
  std::reverse(pending.begin(), pending.end());  // a stack: next component at the back
  std::vector<std::string> resolved;
  int links = 0;
  while (!pending.empty()) {
    std::string part = pending.back();
    pending.pop_back();
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();  // clamped at the root
      continue;
    }
    fs::path candidate = rootfs;
    for (const auto& done : resolved) candidate /= done;
    candidate /= part;
    struct stat info {};
    if (::lstat(candidate.c_str(), &info) != 0) return std::nullopt;
    if (!S_ISLNK(info.st_mode)) {
      resolved.push_back(part);
      continue;
    }
    if (++links > kMaxSymlinks) return std::nullopt;
    std::error_code error;
    const std::string target = fs::read_symlink(candidate, error).string();
    if (error) return std::nullopt;
    if (!target.empty() && target.front() == '/') resolved.clear();
    auto target_parts = support::path_components(target);
    for (auto it = target_parts.rbegin(); it != target_parts.rend(); ++it) pending.push_back(*it);
  }
  fs::path result = rootfs;
  for (const auto& done : resolved) result /= done;
  return result;
}

BaseFacts inspect_base(const std::vector<fs::path>& lowers, const std::vector<std::string>& env,
                       const fs::path& scratch) {
  BaseFacts facts;
  const fs::path& rootfs = lowers.front();
  for (const char* candidate : {"/sbin/tini", "/usr/bin/tini", "/usr/local/bin/tini"}) {
    auto found = resolve_in_root(rootfs, candidate);
    if (found && fs::is_regular_file(*found) && ::access(found->c_str(), X_OK) == 0) {
      facts.init_path = candidate;
      break;
    }
  }
  facts.apt_suite = os_release_codename(rootfs);

  exec::StepSpec spec;
  spec.argv = {"python3", "--version"};
  spec.env = env;
  spec.network = exec::Network::None;
  std::string output;
  const fs::path upper = scratch / "probe-python";
  exec::ExitStatus status;
  try {
    status = exec::run_step({lowers, upper}, spec,
                            [&](exec::Stream, std::string_view line) { output += std::string(line) + "\n"; });
  } catch (const Error&) {
    status.exit_code = 127;  // no python3 on the PATH: reported by the caller
  }
  std::error_code ignored;
  fs::remove_all(upper, ignored);
  static const std::regex version(R"(Python (\d+\.\d+(\.\d+)?))");
  std::smatch match;
  if (status.ok() && std::regex_search(output, match, version)) facts.python_version = match[1];
  if (facts.python_version.empty()) return facts;

  auto minor_end = facts.python_version.find('.', facts.python_version.find('.') + 1);
  const std::string library = "libpython" + facts.python_version.substr(0, minor_end) + ".so.1.0";
  for (const char* dir :
       {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/local/lib", "/usr/lib", "/lib", "/opt/conda/lib"}) {
    const std::string candidate = std::string(dir) + "/" + library;
    if (auto found = resolve_in_root(rootfs, candidate); found && fs::is_regular_file(*found)) {
      facts.libpython = candidate;
      break;
    }
  }
  return facts;
}

fs::path host_static_tini() {
  for (const char* candidate : {"/usr/bin/tini-static", "/usr/local/bin/tini-static"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace cog::builder::pipeline
