// predict-to-run-migration: Cog's deprecated runner names (`predict:` in cog.yaml, predict.py,
// class Predictor, BasePredictor, def predict) and --fix's rename to run.py / Runner / BaseRunner /
// def run / `run: "run.py:Runner"`. The whole rewrite is planned before anything is written, so a
// refused fix (`run.py already exists`) changes nothing.
#include <filesystem>

#include "builder/doctor/doctor.hpp"
#include "builder/doctor/edit.hpp"
#include "builder/doctor/python_files.hpp"
#include "builder/doctor/python_scan.hpp"
#include "support/text_file.hpp"

namespace cog::builder::doctor {

namespace {

struct Migration {
  std::vector<Finding> findings;
  std::filesystem::path old_file;  // the runner file, when it exists
  std::filesystem::path new_file;  // where it goes (the same path unless it was predict.py)
  std::string new_file_label;      // "run.py", "sub/run.py"
  std::string new_source;
  std::string new_reference;         // the value of `run:` afterwards
  std::string refused;               // why the fix would be unsafe; empty when it is safe
  std::vector<std::string> renames;  // "Predictor → Runner", for the report
};

int first_line_of_name(std::string_view source, std::string_view name) {
  int count = 0;
  for (const auto& statement : python::statements(source)) {
    python::rename(statement.code, name, name, &count);
    if (count > 0) return statement.line;
  }
  return 0;
}

// "lib/x.py:3" for the first other file that imports the runner module `predict` (a sibling of
// it, or any file when it is at the project's root); empty when none does.
std::string importer_of_predict(const Project& project, const std::filesystem::path& runner_file) {
  for (const auto& other : python_files(project)) {
    std::error_code error;
    if (std::filesystem::equivalent(other.path, runner_file, error)) continue;
    for (const auto& import : python::imports(other.source)) {
      bool imports_it = import.is_from && (import.module == "predict" || import.module == ".predict");
      for (const auto& name : import.names) imports_it = imports_it || (!import.is_from && name.name == "predict");
      if (import.is_from && import.module == ".") {
        for (const auto& name : import.names) imports_it = imports_it || name.name == "predict";
      }
      if (imports_it) return other.label + ":" + std::to_string(import.statement.line);
    }
  }
  return {};
}

Finding warning(const std::string& file, int line, std::string message, std::string remediation) {
  Finding finding;
  finding.severity = Severity::Warning;
  finding.where = Location{file, line, 0};
  finding.message = std::move(message);
  finding.remediation = std::move(remediation);
  finding.fixable = true;
  return finding;
}

Migration plan_migration(const Project& project) {
  Migration plan;
  const WrittenReference* runner = project.runner();
  if (!runner) return plan;
  std::string remedy = "run `cog doctor --fix`, or rename by hand";
  if (runner->key == "predict") {
    plan.findings.push_back(warning(project.config_label, runner->line,
                                    "deprecated field \"predict\": use \"run\" instead",
                                    "replace `predict:` with `run:` in " + project.config_label));
  }
  plan.new_reference = runner->text;
  // A file outside the project is the loader's error, and never ours to rename.
  std::filesystem::path relative = std::filesystem::path(runner->file).lexically_normal();
  if (runner->file.empty() || relative.is_absolute() || *relative.begin() == "..") return plan;
  std::filesystem::path file = project.dir / runner->file;
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) return plan;  // config-predict-ref reports it

  std::string source = support::read_text_file(file);
  plan.old_file = file;
  plan.new_file = file;
  plan.new_file_label = runner->file;
  std::string new_name = runner->name;
  if (file.filename() == "predict.py") {
    plan.new_file = file.parent_path() / "run.py";
    plan.new_file_label = (std::filesystem::path(runner->file).parent_path() / "run.py").generic_string();
    plan.findings.push_back(warning(runner->file, 0, "the runner file has Cog's deprecated name predict.py",
                                    "rename it " + plan.new_file_label + " and point `run:` at it"));
    if (std::filesystem::exists(plan.new_file, error)) {
      plan.refused = plan.new_file_label + " already exists: cannot rename " + runner->file + " to it";
    } else if (std::string importer = importer_of_predict(project, file); !importer.empty()) {
      plan.refused = importer + " imports the module predict, which the rename would break: migrate by hand";
    }
  }

  bool rename_base = false;
  if (int line = first_line_of_name(source, "BasePredictor"); line > 0) {
    plan.findings.push_back(warning(runner->file, line, "BasePredictor is the deprecated name of cog.BaseRunner",
                                    "replace BasePredictor with BaseRunner"));
    rename_base = true;
  }

  // The runner's methods (class form), or the module's functions (function form `predict.py:predict`).
  std::vector<python::FunctionDef> candidates;
  bool rename_class = false;
  bool class_form = false;
  for (const auto& cls : python::classes(source)) {
    if (cls.name != runner->name || cls.statement.indent != 0) continue;
    class_form = true;
    candidates = python::methods_of(source, cls);
    if (cls.name != "Predictor") continue;
    plan.findings.push_back(warning(runner->file, cls.statement.line,
                                    "class Predictor is the deprecated name of the runner class",
                                    "rename the class Runner and point `run:` at " + plan.new_file_label + ":Runner"));
    if (first_line_of_name(source, "Runner") > 0) {
      plan.refused = runner->file + " already uses the name Runner: rename class Predictor by hand";
    }
    rename_class = true;
    new_name = "Runner";
  }
  if (!class_form && runner->name == "predict") {
    for (const auto& function : python::functions(source)) {
      if (function.statement.indent == 0) candidates.push_back(function);
    }
  }
  const python::FunctionDef* predict = nullptr;
  bool has_run = false;
  for (const auto& function : candidates) {
    if (function.name == "predict") predict = &function;
    if (function.name == "run") has_run = true;
  }

  // The def first, by its offset in the original text; then the whole-name renames.
  std::string rewritten = source;
  if (predict) {
    plan.findings.push_back(warning(runner->file, predict->statement.line,
                                    "predict() is the deprecated name of the runner's method: Cog now calls run()",
                                    "rename `def predict(` to `def run(`"));
    if (has_run) plan.refused = runner->file + " defines both run() and predict(): remove one by hand";
    rewritten.replace(predict->name_offset, std::string_view("predict").size(), "run");
    plan.renames.push_back("def predict → def run");
    if (!class_form) new_name = "run";
  }
  if (rename_base) {
    rewritten = python::rename(rewritten, "BasePredictor", "BaseRunner");
    plan.renames.push_back("BasePredictor → BaseRunner");
  }
  if (rename_class) {
    rewritten = python::rename(rewritten, "Predictor", "Runner");
    plan.renames.push_back("Predictor → Runner");
  }
  plan.new_source = rewritten;
  plan.new_reference = plan.new_file_label + ":" + new_name;
  return plan;
}

class PredictToRun : public Check {
 public:
  std::string id() const override { return "predict-to-run-migration"; }
  std::string description() const override { return "Deprecated predict interface names"; }

  CheckOutcome run(const Project& project, const Host&) const override {
    CheckOutcome outcome;
    if (project.parse_error) {
      outcome.skipped = project.config_label + " does not parse";
      return outcome;
    }
    outcome.findings = plan_migration(project).findings;
    return outcome;
  }

  std::vector<std::string> fix(const Project& project) const override {
    Migration plan = plan_migration(project);
    if (plan.findings.empty()) return {};
    if (!plan.refused.empty()) {
      throw Error(ErrorKind::Validation, project.runner()->file, plan.refused,
                  "nothing was changed; resolve it by hand, then run `cog doctor --fix` again");
    }
    std::vector<std::string> changes;
    const WrittenReference* runner = project.runner();
    if (!plan.old_file.empty()) {
      edit::write_file(plan.new_file, plan.new_source);
      if (plan.new_file != plan.old_file) {
        std::filesystem::remove(plan.old_file);
        changes.push_back("renamed " + runner->file + " to " + plan.new_file_label);
      }
      if (!plan.renames.empty()) {
        std::string renames;
        for (const auto& rename : plan.renames) renames += (renames.empty() ? "" : ", ") + rename;
        changes.push_back("in " + plan.new_file_label + ": " + renames);
      }
    }
    auto lines = edit::split_lines(project.config_text);
    auto [first, last] = edit::yaml_entry_lines(lines, runner->line);
    bool reference_changed = runner->key != "run" || plan.new_reference != runner->text;
    if (reference_changed && last > first) {
      std::string replacement = edit::indentation(lines[first]) + "run: \"" + plan.new_reference + "\"\n";
      lines.erase(lines.begin() + static_cast<long>(first), lines.begin() + static_cast<long>(last));
      lines.insert(lines.begin() + static_cast<long>(first), replacement);
      edit::write_file(project.config_path, edit::join_lines(lines));
      changes.push_back("set run: \"" + plan.new_reference + "\" in " + project.config_label);
    }
    return changes;
  }
};

}  // namespace

std::unique_ptr<Check> predict_to_run_check() { return std::make_unique<PredictToRun>(); }

}  // namespace cog::builder::doctor
