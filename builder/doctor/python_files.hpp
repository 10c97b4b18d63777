#pragma once
// The model's Python files as the doctor's Python checks see them, and edits applied to a source
// by offset.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/doctor/project.hpp"

namespace cog::builder::doctor {

struct PythonFile {
  std::filesystem::path path;  // absolute (or as the project dir is given)
  std::string label;           // relative to the project: "run.py", "lib/models.py"
  std::string source;
};

// Every *.py file under the project directory, in path order, skipping hidden directories,
// __pycache__, virtual environments (a pyvenv.cfg), site-packages and node_modules; at most 2000
// files of at most 4 MiB each.
std::vector<PythonFile> python_files(const Project& project);

// Replace source[begin, end) by text; edits must not overlap.
struct SourceEdit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};
std::string apply_edits(std::string source, std::vector<SourceEdit> edits);

}  // namespace cog::builder::doctor
