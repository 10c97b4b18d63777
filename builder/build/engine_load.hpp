#pragma once
// `cog build --load`: handing a built image to a local container engine (docker, else podman),
// which reads it as the docker-archive `docker save` would have written.
#include <filesystem>
#include <string>

#include "builder/oci/descriptor.hpp"
#include "builder/oci/layout.hpp"

namespace cog::builder::build {

struct ContainerEngine {
  std::string name;             // "docker" or "podman"
  std::filesystem::path program;
};

// docker on PATH, else podman. Throws cog::Error(NotFound) when neither is installed.
ContainerEngine find_container_engine();

// Writes `manifest` (held in `layout`) as a docker-archive tagged `image_name` (":latest" added
// when it has no tag) next to the layout, runs `<engine> load --input` on it and removes it.
// Returns what the engine printed ("Loaded image: hello:latest"). Throws cog::Error when the
// engine refuses it (its daemon not running, say), with the engine's own message.
std::string load_into_engine(const ContainerEngine& engine, const oci::Layout& layout,
                             const oci::Descriptor& manifest, const std::string& image_name);

}  // namespace cog::builder::build
