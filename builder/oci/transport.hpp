#pragma once
// Where images come from and go to, in skopeo's transport syntax:
//   oci:DIR[:TAG]              an OCI image layout directory
//   docker-archive:FILE[:REF]  a `docker save` tarball (what `docker load` reads)
//   anything else              a name in the local image store ("name[:tag]")
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/oci/layout.hpp"

namespace cog::builder::oci {

struct ImageReference {
  enum class Transport { Store, Oci, DockerArchive };
  Transport transport = Transport::Store;
  std::filesystem::path path;  // Oci / DockerArchive: the directory or file
  std::string name;            // the tag (Oci), docker reference (DockerArchive), image name (Store)

  std::string str() const;
};

// Throws cog::Error(Usage) for `oci:` / `docker-archive:` without a path, and for another transport
// (`dir:/x`, `oci-archive:f.tar`, ...): a `word:` prefix that does not begin an image name
// (`python:3.11`, `localhost:5000/model`) would otherwise become a store name.
ImageReference parse_image_reference(std::string_view text);

// An image destination as `cog build -o` takes it: parse_image_reference, with the flag in the error,
// and a docker-archive without :REF named `image_name` (normalized), so that `docker load` tags it.
ImageReference parse_output_reference(std::string_view text, std::string_view image_name);

// Reads a docker-archive into `into` (blobs copied, layers stored as they are in the archive);
// `name` picks one of several images by RepoTag, empty = the only/first one. Returns the
// manifest descriptor (not tagged).
Descriptor import_docker_archive(const std::filesystem::path& archive, std::string_view name, Layout& into);

// Writes the image `manifest` (from `from`) as a docker-archive with the given RepoTags
// (uncompressed layers named <hex>/layer.tar, as `docker save` does).
void export_docker_archive(const Layout& from, const Descriptor& manifest, const std::filesystem::path& archive,
                           const std::vector<std::string>& repo_tags);

// Copies every blob of `manifest` from `from` into `to` (no tagging); a no-op for blobs present.
void copy_image_blobs(const Layout& from, const Descriptor& manifest, Layout& to);

// Reads the image `source` names into `into` (the store's layout, usually); returns its manifest
// descriptor. For Store references `into` is the store and the name is just looked up.
Descriptor load_image(const ImageReference& source, Layout& into);

// Writes `manifest` (held in `from`) to `destination` (Oci: tagged with destination.name or
// "latest"; DockerArchive: RepoTags = destination.name if any; Store: tagged in `from`).
void save_image(const Layout& from, const Descriptor& manifest, const ImageReference& destination);

}  // namespace cog::builder::oci
