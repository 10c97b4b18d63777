#pragma once
// Image references as users type them: `name[:tag][@digest]`, with Docker Hub's defaults.
#include <string>

namespace cog::builder::registry {

// The registry host Docker Hub references are written with, and the host its API lives on.
inline constexpr const char* kDockerHubDomain = "docker.io";
inline constexpr const char* kDockerHubApiHost = "registry-1.docker.io";

struct Reference {
  std::string registry;    // `docker.io`, `r8.im`, `localhost:5000`, `[::1]:5000`
  std::string repository;  // `library/python`, `owner/model`
  std::string tag;         // empty when only a digest was given
  std::string digest;      // `sha256:<64 hex>`, empty when not pinned

  // The host the distribution API is served from (`registry-1.docker.io` for Docker Hub).
  std::string api_host() const;
  // The tag if there is one, else the digest: what goes after `/manifests/`.
  std::string manifest_reference() const;
  // `registry/repository[:tag][@digest]`, always fully qualified.
  std::string str() const;
  // `registry/repository`.
  std::string name() const;
  // True for `localhost`, `127.*` and `[::1]` registries, where plain HTTP is allowed.
  bool is_loopback() const;
};

// Parses `python`, `python:3.12`, `ghcr.io/o/r@sha256:…`, `localhost:5000/x:y`, `r8.im/o/m`.
// A reference with neither tag nor digest gets the tag `latest`. Throws cog::Error (Validation).
Reference parse_reference(const std::string& text);

// True when `host` names the local machine (`localhost`, `127.0.0.0/8`, `::1`), port ignored.
bool is_loopback_host(const std::string& host);

// The registry as written in docker's config.json and by `cog login`: Docker Hub's aliases
// (`docker.io`, `index.docker.io`, `registry-1.docker.io`, `https://index.docker.io/v1/`) become
// `https://index.docker.io/v1/`; other hosts lose their scheme and path.
std::string credential_key(const std::string& registry);

}  // namespace cog::builder::registry
