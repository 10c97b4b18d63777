// Finding weight files the way Cog does for --separate-weights.
#include "builder/plan/weights.hpp"

#include <algorithm>
#include <set>

namespace cog::builder::plan {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kSkippedDirs = {".git", ".cog", "__pycache__"};
const std::set<std::string> kCodeExtensions = {".py", ".ipynb", ".whl"};
// Large files that are still not weights: media and logs.
const std::set<std::string> kNonWeightExtensions = {".jpg",  ".jpeg", ".png", ".webp", ".svg", ".gif", ".avif",
                                                    ".heic", ".mp4",  ".mov", ".avi",  ".wmv", ".mkv", ".webm",
                                                    ".mp3",  ".wav",  ".ogg", ".flac", ".aac", ".m4a", ".log"};

std::string lower_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

size_t depth(const std::string& relative) { return std::count(relative.begin(), relative.end(), '/'); }

bool is_inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

}  // namespace

WeightPaths find_weights(const fs::path& project_dir) {
  std::vector<std::string> weight_files;
  std::vector<std::string> code_files;
  std::error_code error;
  fs::recursive_directory_iterator walk(project_dir, fs::directory_options::skip_permission_denied, error);
  for (; !error && walk != fs::recursive_directory_iterator(); walk.increment(error)) {
    const auto& entry = *walk;
    if (entry.is_directory(error)) {
      if (kSkippedDirs.count(entry.path().filename().string())) walk.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(error)) continue;
    std::string relative = fs::relative(entry.path(), project_dir, error).generic_string();
    std::string extension = lower_extension(entry.path());
    if (kCodeExtensions.count(extension)) {
      code_files.push_back(relative);
      continue;
    }
    if (entry.file_size(error) < kWeightMinSize || kNonWeightExtensions.count(extension)) {
      continue;
    }
    weight_files.push_back(relative);
  }

  // Shallow files first, so a directory is seen before its subdirectories.
  std::sort(weight_files.begin(), weight_files.end(),
            [](const auto& a, const auto& b) { return depth(a) != depth(b) ? depth(a) < depth(b) : a < b; });
  WeightPaths weights;
  std::vector<std::string> candidate_dirs;
  for (const auto& file : weight_files) {
    auto slash = file.rfind('/');
    if (slash == std::string::npos) {
      weights.files.push_back(file);
      continue;
    }
    std::string dir = file.substr(0, slash);
    bool covered = std::any_of(candidate_dirs.begin(), candidate_dirs.end(),
                               [&](const auto& known) { return known == dir || is_inside(dir, known); });
    if (!covered) candidate_dirs.push_back(dir);
  }
  for (const auto& dir : candidate_dirs) {
    bool has_code =
        std::any_of(code_files.begin(), code_files.end(), [&](const auto& code) { return is_inside(code, dir); });
    if (!has_code) weights.dirs.push_back(dir);
  }
  std::sort(weights.dirs.begin(), weights.dirs.end());
  std::sort(weights.files.begin(), weights.files.end());
  return weights;
}

std::vector<std::string> weights_exclude_patterns(const WeightPaths& weights) {
  std::vector<std::string> patterns;
  for (const auto& dir : weights.dirs) {
    patterns.push_back(dir);
    patterns.push_back(dir + "/**/*");
  }
  for (const auto& file : weights.files) patterns.push_back(file);
  return patterns;
}

}  // namespace cog::builder::plan
