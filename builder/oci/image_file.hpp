#pragma once
// One small file of a stored image, read from its layer tars without unpacking the image: what
// `cog run IMAGE` needs of /.cog/weights.json. Layers are read top first; whiteouts (a `.wh.`
// entry for the file or a directory above it, or an opaque directory) end the search.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "builder/oci/image.hpp"
#include "builder/oci/layout.hpp"

namespace cog::builder::oci {

// The content of `path` (relative to the root, e.g. ".cog/weights.json"); nullopt when no layer
// has it or a whiteout hides it. Throws cog::Error(Validation) naming the file when it is larger
// than `max_size`, or when a layer is corrupt.
std::optional<std::string> read_image_file(const Layout& layout, const Manifest& manifest, std::string_view path,
                                           std::size_t max_size = 1 << 20);

}  // namespace cog::builder::oci
