#include "builder/doctor/python_files.hpp"

#include <algorithm>

#include "builder/doctor/edit.hpp"
#include "support/text_file.hpp"

namespace cog::builder::doctor {

namespace {

constexpr std::size_t kMaxFiles = 2000;
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{4} * 1024 * 1024;

bool skipped_directory(const std::filesystem::path& dir) {
  std::string name = dir.filename().string();
  std::error_code error;
  return (!name.empty() && name[0] == '.') || name == "__pycache__" || name == "site-packages" ||
         name == "node_modules" || std::filesystem::exists(dir / "pyvenv.cfg", error);
}

}  // namespace

std::vector<PythonFile> python_files(const Project& project) {
  std::vector<std::filesystem::path> paths;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(project.dir,
                                                   std::filesystem::directory_options::skip_permission_denied, error);
  for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_directory(error)) {
      if (skipped_directory(it->path())) it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() != ".py" || !it->is_regular_file(error)) continue;
    if (it->file_size(error) > kMaxFileBytes) continue;
    paths.push_back(it->path());
    if (paths.size() >= kMaxFiles) break;
  }
  std::sort(paths.begin(), paths.end());
  std::vector<PythonFile> files;
  files.reserve(paths.size());
  for (const auto& path : paths) {
    files.push_back({path, path.lexically_relative(project.dir).generic_string(), support::read_text_file(path)});
  }
  return files;
}

std::string apply_edits(std::string source, std::vector<SourceEdit> edits) {
  std::sort(edits.begin(), edits.end(), [](const SourceEdit& a, const SourceEdit& b) { return a.begin > b.begin; });
  for (const auto& edit : edits) source.replace(edit.begin, edit.end - edit.begin, edit.text);
  return source;
}

CheckOutcome PythonFileCheck::run(const Project& project, const Host&) const {
  CheckOutcome outcome;
  for (const auto& file : python_files(project)) {
    auto plan = plan_file(file);
    outcome.findings.insert(outcome.findings.end(), plan.findings.begin(), plan.findings.end());
  }
  return outcome;
}

std::vector<std::string> PythonFileCheck::fix(const Project& project) const {
  std::vector<std::string> changes;
  for (const auto& file : python_files(project)) {
    auto plan = plan_file(file);
    if (plan.edits.empty() || !plan.fixable) continue;
    edit::write_file(file.path, apply_edits(file.source, plan.edits));
    changes.push_back(file.label + ": " + fix_summary());
  }
  return changes;
}

}  // namespace cog::builder::doctor
