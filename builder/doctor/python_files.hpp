#pragma once
// The model's Python files as the doctor's Python checks see them, edits applied to a source by
// offset, and the base of the checks that look at each file on its own.
#include <filesystem>
#include <string>
#include <vector>

#include "builder/doctor/doctor.hpp"
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

// What a per-file check finds in one file, and the edits that fix it (made only when `fixable`).
struct FilePlan {
  std::vector<Finding> findings;
  std::vector<SourceEdit> edits;
  bool fixable = false;  // every fixable finding in the file can be fixed together
};

// A check that plans each Python file on its own: run() gathers every file's findings, fix()
// rewrites each fixable file with its edits and reports "<file>: <fix_summary()>".
class PythonFileCheck : public Check {
 public:
  CheckOutcome run(const Project& project, const Host& host) const override;
  std::vector<std::string> fix(const Project& project) const override;

 protected:
  virtual FilePlan plan_file(const PythonFile& file) const = 0;
  virtual std::string fix_summary() const = 0;  // "deprecated cog imports rewritten"
};

}  // namespace cog::builder::doctor
