// cog images / cog rmi: list and remove images in the local store (no daemon: an OCI layout).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "builder/container/rootfs_cache.hpp"
#include "builder/oci/store.hpp"
#include "support/error.hpp"
#include "support/human_size.hpp"
#include "cli/command.hpp"

namespace cog::cli {
namespace {

// After `cog rmi`, the unpacked roots (~/.cache/cog/rootfs) that no stored image needs go too,
// unless used in the last COG_ROOTFS_GRACE_SECONDS (default 30 min: a build or container may be
// using one that no stored image names yet). Only from the shared store: the cache serves every
// store, and a private one (COG_IMAGE_STORE) cannot tell which layers the others' images need.
void prune_rootfs_cache(const builder::oci::ImageStore& store) {
  if (!builder::oci::is_shared_store(store.layout().root())) return;
  std::vector<std::vector<builder::oci::Digest>> images;
  for (const auto& image : store.list()) {
    images.push_back(store.layout().read_config(store.layout().read_manifest(image.manifest_digest)).diff_ids);
  }
  std::chrono::seconds grace{30 * 60};
  if (const char* text = std::getenv("COG_ROOTFS_GRACE_SECONDS"); text && *text) grace = std::chrono::seconds(std::atoll(text));
  builder::container::RootfsCache cache(builder::container::default_rootfs_cache_path());
  if (const int removed = cache.prune(images, grace); removed > 0) {
    std::cout << "Removed " << removed << " unpacked layer" << (removed == 1 ? "" : "s")
              << " no image uses from the rootfs cache\n";
  }
}

}  // namespace

void add_images_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto* images = app.add_subcommand("images", "List images in the local image store");
  auto quiet = std::make_shared<bool>(false);
  images->add_flag("-q,--quiet", *quiet, "Only print image names");
  images->callback([quiet] {
    builder::oci::ImageStore store(builder::oci::default_store_path());
    auto list = store.list();
    if (*quiet) {
      for (const auto& image : list) std::cout << image.name << "\n";
      return;
    }
    std::printf("%-40s %-14s %-22s %s\n", "IMAGE", "DIGEST", "CREATED", "SIZE");
    for (const auto& image : list) {
      std::printf("%-40s %-14s %-22s %s\n", image.name.c_str(),
                  image.manifest_digest.hex.substr(0, 12).c_str(), image.created.c_str(),
                  support::human_size(image.size, support::SizeStyle::Listing).c_str());
    }
  });

  auto* rmi = app.add_subcommand("rmi", "Remove images from the local image store");
  auto names = std::make_shared<std::vector<std::string>>();
  rmi->add_option("image", *names, "Image names (name[:tag]) or digests")->required();
  rmi->callback([names] {
    builder::oci::ImageStore store(builder::oci::default_store_path());
    for (const auto& name : *names) {
      if (!store.remove(name)) {
        throw Error(ErrorKind::NotFound, name, "no such image in the local store",
                    "`cog images` lists the images there");
      }
      std::cout << "Untagged: " << builder::oci::normalize_image_name(name) << "\n";
    }
    prune_rootfs_cache(store);
  });
}

}  // namespace cog::cli
