#pragma once
// `cog build --base-image REF`: an image from elsewhere as the first layers of the build, as
// Docker's FROM does: its layers are kept byte for byte (same digests), its config (Env, User,
// labels, history) is inherited, and the build's sandboxed steps run over its unpacked root.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "builder/oci/image.hpp"
#include "builder/oci/store.hpp"
#include "builder/registry/reference.hpp"

namespace cog::builder::pipeline {

// Where a base came from and what it is, once it is in the store's layout.
struct ResolvedBase {
  oci::Descriptor manifest;
  std::string source;  // what was used: "oci:/dir:tag", "store image x:latest", "registry 127.0.0.1:5000/x:y"
};

// A registry mirror (`--registry-mirror HOST[:PORT]` / COG_REGISTRY_MIRROR): a scheme and a
// trailing slash are accepted and dropped. Throws cog::Error(Usage) for an empty or malformed host.
std::string parse_registry_mirror(const std::string& text);

// The same repository, tag and digest on the mirror host (as Docker's registry mirrors serve them).
registry::Reference on_mirror(const registry::Reference& ref, const std::string& mirror_host);

// Brings `text` into `store`'s layout: `oci:DIR[:TAG]` and `docker-archive:FILE[:REF]` are
// imported (every blob checked against its digest), a name the store holds is used as it is, and
// anything else is pulled from its registry for linux/amd64, digest-verified; when the registry
// cannot be reached and `mirror_host` is set, from the mirror. Throws cog::Error naming the
// reference when it is missing, unreachable or not a linux/amd64 image.
ResolvedBase resolve_base_image(const std::string& text, oci::ImageStore& store, const std::string& mirror_host,
                                const std::function<void(const std::string&)>& progress);

// The base's root file system, its layers applied in order once (cached by chain ID under
// `rootfs_cache`, shared with `cog run`): the lowest layer of the build's sandboxed steps. Layers
// already unpacked under one of `layer_donors` (the build's layer-dirs) are linked, not unpacked.
// Hostile layers (`..` entries, hard links or whiteouts reaching outside, links followed out of
// the root) are rejected with cog::Error(Validation) naming the base; absolute paths land inside.
std::vector<std::filesystem::path> unpack_base(const oci::Layout& layout, const oci::Descriptor& manifest,
                                               const std::filesystem::path& rootfs_cache, const std::string& source,
                                               const std::vector<std::filesystem::path>& layer_donors = {});

// Throws cog::Error(Compatibility) unless the config says linux/amd64 (what the build targets).
void check_base_platform(const oci::ImageConfig& config, const std::string& source);

// What the build needs to know about a base's root file system.
struct BaseFacts {
  std::string python_version;  // "3.11.2" from `python3 --version`; empty when there is none
  std::string init_path;       // an executable tini inside the root, empty when there is none
  std::string apt_suite;       // VERSION_CODENAME of /etc/os-release ("bookworm"), else "unknown"
  std::string libpython;       // where libpython<major.minor>.so.1.0 is inside the root, empty if not found
};

// Looks at an unpacked base: tini at /sbin/tini, /usr/bin/tini or /usr/local/bin/tini (symlinks
// resolved inside the root, never outside), the release's codename, runs `python3 --version` in
// a sandbox over `lowers` with `env` (no network), and looks for that Python's shared library
// (which the worker embeds) in the usual library directories.
BaseFacts inspect_base(const std::vector<std::filesystem::path>& lowers, const std::vector<std::string>& env,
                       const std::filesystem::path& scratch);

// Resolves `path` (absolute, as inside the root) under `rootfs` as if `rootfs` were `/`:
// symlinks are followed with absolute targets taken relative to the root and `..` clamped at it.
// nullopt when the path does not exist (or loops).
std::optional<std::filesystem::path> resolve_in_root(const std::filesystem::path& rootfs, const std::string& path);

// A statically linked tini on this machine (Debian's `tini` package ships /usr/bin/tini-static),
// shipped into bases that have no init; empty when there is none.
std::filesystem::path host_static_tini();

}  // namespace cog::builder::pipeline
