#include "builder/build/engine_load.hpp"

#include <system_error>

#include "builder/oci/files.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "builder/support/error.hpp"
#include "builder/support/subprocess.hpp"

namespace cog::builder::build {
namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The archive is removed on every exit path.
struct TemporaryFile {
  std::filesystem::path path;
  ~TemporaryFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

}  // namespace

ContainerEngine find_container_engine() {
  for (const char* name : {"docker", "podman"}) {
    if (auto program = support::find_program(name)) return {name, *program};
  }
  throw Error(ErrorKind::NotFound, "--load", "neither docker nor podman is installed (none on PATH)",
              "install one of them, or write the image with -o docker-archive:FILE and load that where "
              "docker runs");
}

std::string load_into_engine(const ContainerEngine& engine, const oci::Layout& layout,
                             const oci::Descriptor& manifest, const std::string& image_name) {
  // Next to the layout: the same file system as the blobs, which may be far larger than /tmp.
  TemporaryFile archive{layout.root() / (oci::files::unique_name(".cog-load-") + ".tar")};
  oci::ImageReference destination{oci::ImageReference::Transport::DockerArchive, archive.path,
                                  oci::normalize_image_name(image_name)};
  oci::save_image(layout, manifest, destination);

  support::SpawnOptions options;
  options.capture_stdout = true;
  options.capture_stderr = true;
  auto result = support::run_captured({engine.program.string(), "load", "--input", archive.path.string()}, options);
  if (result.exit_code != 0) {
    std::string said = trimmed(result.stderr_text.empty() ? result.stdout_text : result.stderr_text);
    throw Error(ErrorKind::Runtime, "--load",
                "`" + engine.name + " load` failed (exit " + std::to_string(result.exit_code) + "): " + said,
                engine.name == "docker" ? "start the docker daemon (or point DOCKER_HOST at one), or write the "
                                          "image with -o docker-archive:FILE"
                                        : "check that `podman info` works, or write the image with "
                                          "-o docker-archive:FILE");
  }
  return trimmed(result.stdout_text);
}

}  // namespace cog::builder::build
