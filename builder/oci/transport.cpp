#include "builder/oci/transport.hpp"

#include <algorithm>

#include "builder/oci/store.hpp"
#include "support/error.hpp"

namespace cog::builder::oci {
namespace fs = std::filesystem;

std::string ImageReference::str() const {
  switch (transport) {
    case Transport::Oci:
      return "oci:" + path.string() + (name.empty() ? "" : ":" + name);
    case Transport::DockerArchive:
      return "docker-archive:" + path.string() + (name.empty() ? "" : ":" + name);
    case Transport::Store:
      return name;
  }
  return name;
}

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_tag_char(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-'; }

// skopeo's other transports: errors even where the rest would read as a tag (`oci-archive:x.tar`).
// `docker:` is not one of them: `docker:dind` is an image (and `docker://` is refused above).
constexpr std::string_view kOtherTransports[] = {"dir",     "docker-daemon", "containers-storage", "oci-archive", "sif",
                                                 "tarball", "ostree"};

// "word:" when `text` starts with a transport-like prefix that cannot begin an image name: after a
// name's first ':' comes either a tag (then nothing but an optional @digest) or a registry port
// (digits, then '/'). Empty when `text` reads as an image name.
std::string_view foreign_transport(std::string_view text) {
  auto colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos) return {};
  std::string_view word = text.substr(0, colon);
  if (std::find(std::begin(kOtherTransports), std::end(kOtherTransports), word) != std::end(kOtherTransports)) {
    return text.substr(0, colon + 1);
  }
  if (!std::all_of(word.begin(), word.end(),
                   [](char c) { return is_lower_alnum(c) || c == '-' || c == '.' || c == '_'; })) {
    return {};
  }
  std::string_view rest = text.substr(colon + 1);
  std::string_view tag = rest.substr(0, rest.find('@'));
  if (!tag.empty() && tag.size() <= 128 && tag.front() != '.' && tag.front() != '-' &&
      std::all_of(tag.begin(), tag.end(), is_tag_char)) {
    return {};
  }
  auto slash = rest.find('/');
  if (slash != 0 && slash != std::string_view::npos &&
      std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(slash), is_digit)) {
    return {};
  }
  return text.substr(0, colon + 1);
}

}  // namespace

ImageReference parse_image_reference(std::string_view text) {
  // Like skopeo, the path ends at the first ':' after the transport name.
  for (auto [prefix, transport] :
       {std::pair{std::string_view("oci:"), ImageReference::Transport::Oci},
        std::pair{std::string_view("docker-archive:"), ImageReference::Transport::DockerArchive}}) {
    if (!text.starts_with(prefix)) continue;
    std::string_view rest = text.substr(prefix.size());
    auto colon = rest.find(':');
    ImageReference reference;
    reference.transport = transport;
    reference.path = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) reference.name = std::string(rest.substr(colon + 1));
    if (reference.path.empty()) {
      throw Error(ErrorKind::Usage, std::string(text), "no path after '" + std::string(prefix) + "'",
                  "write " + std::string(prefix) + "PATH[:NAME]");
    }
    return reference;
  }
  if (text.starts_with("docker://")) {
    throw Error(ErrorKind::Usage, std::string(text), "registry references are not read here",
                "pull the image first, or give its name in the local store");
  }
  if (auto transport = foreign_transport(text); !transport.empty()) {
    throw Error(ErrorKind::Usage, std::string(text), "unknown transport '" + std::string(transport) + "'",
                "write oci:DIR[:TAG] or docker-archive:FILE[:REF] (or an image name)");
  }
  return ImageReference{ImageReference::Transport::Store, {}, normalize_image_name(text)};
}

ImageReference parse_output_reference(std::string_view text, std::string_view image_name) {
  ImageReference reference;
  try {
    reference = parse_image_reference(text);
  } catch (const Error& error) {
    throw Error(error.kind(), "--output " + std::string(text), error.message(),
                "write oci:DIR[:TAG] or docker-archive:FILE[:REF]");
  }
  if (reference.transport == ImageReference::Transport::DockerArchive && reference.name.empty() &&
      !image_name.empty()) {
    reference.name = normalize_image_name(image_name);
  }
  return reference;
}

void copy_image_blobs(const Layout& from, const Descriptor& manifest, Layout& to) {
  std::error_code error;
  if (fs::equivalent(from.root(), to.root(), error)) return;
  auto copy = [&](const Digest& digest, const std::string& type) {
    if (!to.has_blob(digest)) to.write_blob_file(from.blob_path(digest), type, digest);
  };
  copy(manifest.digest, manifest.media_type);
  if (media_type::is_index(manifest.media_type)) {
    for (const auto& child : parse_index(from.read_blob(manifest.digest)).manifests) {
      if (from.has_blob(child.digest)) copy_image_blobs(from, child, to);
    }
    return;
  }
  Manifest parsed = from.read_manifest(manifest.digest);
  copy(parsed.config.digest, parsed.config.media_type);
  for (const auto& layer : parsed.layers) copy(layer.digest, layer.media_type);
}

Descriptor load_image(const ImageReference& source, Layout& into) {
  switch (source.transport) {
    case ImageReference::Transport::Store: {
      auto found = into.find(normalize_image_name(source.name));
      if (!found) {
        throw Error(ErrorKind::NotFound, source.name, "no such image in the local store",
                    "build or pull it first; `cog images` lists what is there");
      }
      found->annotations.clear();
      return *found;
    }
    case ImageReference::Transport::Oci: {
      Layout layout = Layout::open(source.path);
      std::string tag = source.name.empty() ? "latest" : source.name;
      auto found = layout.find(tag);
      auto index = layout.index();
      if (!found && source.name.empty() && index.manifests.size() == 1) found = index.manifests[0];
      if (!found) {
        throw Error(ErrorKind::NotFound, source.str(), "no image tagged '" + tag + "' in the layout",
                    "name one of the tags in its index.json");
      }
      found->annotations.clear();
      copy_image_blobs(layout, *found, into);
      return *found;
    }
    case ImageReference::Transport::DockerArchive:
      return import_docker_archive(source.path, source.name, into);
  }
  throw Error(ErrorKind::Usage, source.str(), "unknown transport");
}

void save_image(const Layout& from, const Descriptor& manifest, const ImageReference& destination) {
  Descriptor clean = manifest;
  clean.annotations.clear();
  switch (destination.transport) {
    case ImageReference::Transport::Store:
      Layout::open(from.root()).tag(normalize_image_name(destination.name), clean);
      return;
    case ImageReference::Transport::Oci: {
      Layout layout = Layout::create(destination.path);
      copy_image_blobs(from, clean, layout);
      layout.tag(destination.name.empty() ? "latest" : destination.name, clean);
      return;
    }
    case ImageReference::Transport::DockerArchive: {
      std::vector<std::string> tags;
      if (!destination.name.empty()) tags.push_back(normalize_image_name(destination.name));
      export_docker_archive(from, clean, destination.path, tags);
      return;
    }
  }
}

}  // namespace cog::builder::oci
