#pragma once
// The page's files (assets/index.html, app.js, app.css), compiled into the binary by
// embed_assets.cmake so that the playground needs no network and no files beside cog.
#include <cstddef>
#include <string_view>
#include <vector>

namespace cog::runtime::playground {

struct Asset {
  std::string_view path;          // as served, e.g. "/app.js"
  std::string_view content_type;  // e.g. "text/javascript" (all are UTF-8)
  std::string_view body;
};

const std::vector<Asset>& page_assets();

}  // namespace cog::runtime::playground
