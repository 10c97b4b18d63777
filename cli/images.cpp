// cog images / cog rmi: list and remove images in the local store (no daemon: an OCI layout).
#include <cstdio>
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

// After `cog rmi`, the unpacked roots no stored image needs go too (the policy is the container
// library's: builder::container::prune_unused_rootfs).
void prune_rootfs_cache(const builder::oci::ImageStore& store) {
  if (const int removed = builder::container::prune_unused_rootfs(store); removed > 0) {
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
      std::printf("%-40s %-14s %-22s %s\n", image.name.c_str(), image.manifest_digest.hex.substr(0, 12).c_str(),
                  image.created.c_str(), support::human_size(image.size, support::SizeStyle::Listing).c_str());
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
