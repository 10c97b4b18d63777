// python-deprecated-imports: names the SDK keeps only as deprecated shims. --fix rewrites
// `from cog.types import …` to `from cog import …` and removes ExperimentalFeatureWarning (its
// import and the warnings filters that name it); emit_metric and File need the user's judgement.
#include <set>

#include "builder/doctor/doctor.hpp"
#include "builder/doctor/python_files.hpp"
#include "builder/doctor/python_scan.hpp"

namespace cog::builder::doctor {

namespace {

// What `import cog` offers (runtime/python/cog/__init__.py's __all__).
const std::set<std::string> kCogExports = {
    "BaseRunner",
    "BasePredictor",
    "BaseModel",
    "Opaque",
    "Input",
    "FieldInfo",
    "Path",
    "Secret",
    "File",
    "URLFile",
    "URLPath",
    "ConcatenateIterator",
    "AsyncConcatenateIterator",
    "CancelationException",
    "current_scope",
    "streaming",
    "concurrent",
    "ExperimentalFeatureWarning",
    "emit_metric",
    "__version__",
};

constexpr const char* kWarningName = "ExperimentalFeatureWarning";

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

Finding warning(const PythonFile& file, int line, std::string message, std::string remediation, bool fixable) {
  Finding finding;
  finding.severity = Severity::Warning;
  finding.where = Location{file.label, line, 0};
  finding.message = std::move(message);
  finding.remediation = std::move(remediation);
  finding.fixable = fixable;
  return finding;
}

// The statements that use ExperimentalFeatureWarning outside imports: removable when each is a
// warnings filter. Filters inside a block become `pass`, so the block keeps a body.
bool warning_uses(std::string_view source, std::vector<SourceEdit>& edits) {
  for (const auto& statement : python::statements(source)) {
    int count = 0;
    python::rename(statement.code, kWarningName, kWarningName, &count);
    if (count == 0 || starts_with(statement.code, "from ") || starts_with(statement.code, "import ")) continue;
    bool filter = starts_with(statement.code, "warnings.filterwarnings(") ||
                  starts_with(statement.code, "warnings.simplefilter(") ||
                  starts_with(statement.code, "filterwarnings(") || starts_with(statement.code, "simplefilter(");
    if (!filter) return false;
    std::string replacement = statement.indent > 0 ? std::string(statement.indent, ' ') + "pass\n" : "";
    // A removed top-level filter takes the blank lines before it along, so the spacing around it
    // stays what it was.
    std::size_t begin = statement.begin;
    bool blank_after = statement.end >= source.size() || source[statement.end] == '\n';
    while (replacement.empty() && blank_after && begin >= 2 && source[begin - 1] == '\n' && source[begin - 2] == '\n')
      --begin;
    edits.push_back({begin, statement.end, replacement});
  }
  return true;
}

FilePlan plan_python_file(const PythonFile& file) {
  FilePlan plan;
  plan.fixable = true;  // until an import that cannot be rewritten turns up
  std::vector<SourceEdit> filter_edits;
  bool warning_removable = warning_uses(file.source, filter_edits);
  bool warning_imported = false;
  for (const auto& import : python::imports(file.source)) {
    if (!import.is_from || (import.module != "cog" && import.module != "cog.types")) continue;
    const int line = import.statement.line;
    bool rewrite = false;
    std::vector<std::string> kept;
    for (const auto& name : import.names) {
      if (name.name == kWarningName) {
        warning_imported = true;
        plan.findings.push_back(
            warning(file, line,
                    "ExperimentalFeatureWarning is deprecated: the features it warned about are stable, and "
                    "filtering it does nothing",
                    "remove its import and the warnings filters that name it", warning_removable));
        if (warning_removable) {
          rewrite = true;
          continue;
        }
        plan.fixable = false;
      } else if (name.name == "emit_metric") {
        plan.findings.push_back(warning(file, line, "cog.emit_metric is deprecated",
                                        "call self.record_metric(name, value) in run() (or "
                                        "cog.current_scope().record_metric(name, value)) and drop the import",
                                        false));
      } else if (name.name == "File") {
        plan.findings.push_back(warning(file, line, "cog.File is deprecated",
                                        "use cog.Path for file inputs and outputs (a path on disk instead of "
                                        "an open file)",
                                        false));
      }
      kept.push_back(name.alias.empty() ? name.name : name.name + " as " + name.alias);
    }
    if (import.module == "cog.types") {
      bool exported = true;
      for (const auto& name : import.names) exported = exported && kCogExports.count(name.name) > 0;
      plan.findings.push_back(warning(file, line, "cog.types is not part of Cog's public SDK: import from cog",
                                      "write `from cog import …` instead of `from cog.types import …`", exported));
      if (exported) {
        rewrite = true;
      } else {
        plan.fixable = false;
      }
    }
    if (!rewrite) continue;
    std::string text;
    if (!kept.empty()) {
      text = std::string(import.statement.indent, ' ') + "from cog import ";
      for (std::size_t i = 0; i < kept.size(); ++i) text += (i ? ", " : "") + kept[i];
      text += "\n";
    } else if (import.statement.indent > 0) {
      text = std::string(import.statement.indent, ' ') + "pass\n";
    }
    plan.edits.push_back({import.statement.begin, import.statement.end, text});
  }
  if (warning_imported && warning_removable) {
    plan.edits.insert(plan.edits.end(), filter_edits.begin(), filter_edits.end());
  }
  if (!plan.fixable) {
    for (auto& finding : plan.findings) finding.fixable = false;
  }
  return plan;
}

class DeprecatedImports : public PythonFileCheck {
 public:
  std::string id() const override { return "python-deprecated-imports"; }
  std::string description() const override { return "Deprecated cog imports"; }

 protected:
  FilePlan plan_file(const PythonFile& file) const override { return plan_python_file(file); }
  std::string fix_summary() const override { return "deprecated cog imports rewritten"; }
};

}  // namespace

std::unique_ptr<Check> deprecated_imports_check() { return std::make_unique<DeprecatedImports>(); }

}  // namespace cog::builder::doctor
