#include "builder/plan/image_name.hpp"

namespace cog::builder::plan {

std::string default_image_name(const std::filesystem::path& project_dir) {
  constexpr size_t kMaxLength = 30;  // Cog's limit for the generated name
  const std::string prefix = "cog-";
  std::string base = project_dir.filename().string();
  if (base.empty()) base = project_dir.parent_path().filename().string();  // "dir/" spelling
  std::string name;
  for (char c : base) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == ' ') lower = '-';
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || lower == '-') {
      name += lower;
    }
  }
  if (prefix.size() + name.size() > kMaxLength) name.resize(kMaxLength - prefix.size());
  return prefix + name;
}

std::string build_image_name(const std::string& tag, const config::Config& config) {
  if (!tag.empty()) return tag;
  if (!config.image.empty()) return config.image;
  return default_image_name(config.project_dir);
}

}  // namespace cog::builder::plan
