#pragma once
// Where a weight's files come from. A source uri is one of:
//   file:///abs/path, file://rel/path, or a bare path (relative to the project): a file, or a
//     directory walked recursively (regular files; symbolic links to files are followed);
//   https://… or http://…: one file, downloaded; its name is the last part of the URL path;
//   hf://owner/repo[@revision]/path/in/repo: one file of a Hugging Face repository, downloaded
//     from $HF_ENDPOINT (default https://huggingface.co) as /owner/repo/resolve/<revision>/path,
//     with $HF_TOKEN as a bearer token when set.
// include/exclude (globs.hpp) then choose among the files.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/config/config.hpp"

namespace cog::builder::weights {

struct SourceFile {
  std::string path;                // inside the weight ('/'-separated, relative)
  std::filesystem::path location;  // where its bytes are now
  bool downloaded = false;         // `location` is ours (in the scratch dir): it may be moved
};

// The files of `source` after include/exclude, sorted by path. Downloads go under `scratch`.
// `where` names the field for errors (`weights[0].source`). Throws cog::Error.
std::vector<SourceFile> collect_source(const config::WeightSource& source, const std::filesystem::path& project_dir,
                                       const std::filesystem::path& scratch, const std::string& where);

// The https URL an hf:// uri is downloaded from. Throws cog::Error(Validation) naming `where`
// for a uri that names no file.
std::string hugging_face_url(const std::string& uri, const std::string& where);

}  // namespace cog::builder::weights
