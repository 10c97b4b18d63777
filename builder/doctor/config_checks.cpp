// config-parse, config-schema and config-predict-ref: cog.yaml as `cog build` loads it, with the
// loader's own wording, split by kind (YAML syntax, field shapes and values, runner references).
#include <filesystem>

#include "builder/doctor/doctor.hpp"

namespace cog::builder::doctor {

namespace {

Finding from_error(const Error& error) {
  Finding finding;
  finding.severity = Severity::Error;
  finding.where = parse_location(error.where());
  finding.message = error.message();
  finding.remediation = error.fix();
  return finding;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// The loader's errors about a run/predict/train reference whose file or name is missing.
bool is_reference_error(const Error& error) {
  const std::string& message = error.message();
  bool about_reference = starts_with(message, "invalid run \"") || starts_with(message, "invalid predict \"") ||
                         starts_with(message, "invalid train \"");
  return about_reference &&
         (message.find("does not exist") != std::string::npos || message.find("does not define") != std::string::npos ||
          message.find("outside the project") != std::string::npos);
}

class ConfigParse : public Check {
 public:
  std::string id() const override { return "config-parse"; }
  std::string description() const override { return "cog.yaml parses as YAML"; }
  CheckOutcome run(const Project& project, const Host&) const override {
    CheckOutcome outcome;
    if (project.parse_error) {
      Finding finding = from_error(*project.parse_error);
      if (finding.remediation.empty()) {
        finding.remediation = "fix the YAML syntax at that line (indentation, quotes, a missing `:`)";
      }
      outcome.findings.push_back(finding);
    }
    return outcome;
  }
};

// The loader's errors that are (or, without `references`, are not) about a run/predict/train
// reference, each as a finding, with `remediation` where the loader gave none; skipped when
// cog.yaml does not parse (config-parse reports that).
CheckOutcome load_error_findings(const Project& project, bool references, const std::string& remediation) {
  CheckOutcome outcome;
  if (project.parse_error) {
    outcome.skipped = project.config_label + " does not parse";
    return outcome;
  }
  for (const auto& error : project.load_errors) {
    if (is_reference_error(error) != references) continue;
    Finding finding = from_error(error);
    if (finding.remediation.empty()) finding.remediation = remediation;
    outcome.findings.push_back(finding);
  }
  return outcome;
}

class ConfigSchema : public Check {
 public:
  std::string id() const override { return "config-schema"; }
  std::string description() const override { return "cog.yaml fields and values"; }
  CheckOutcome run(const Project& project, const Host&) const override {
    return load_error_findings(project, false,
                               "correct this field in " + project.config_label +
                                   " (its shape is in schemas/cog.yaml.schema.json, its meaning in docs/building.md)");
  }
};

class PredictRef : public Check {
 public:
  std::string id() const override { return "config-predict-ref"; }
  std::string description() const override { return "run/predict reference names an existing file and class"; }
  CheckOutcome run(const Project& project, const Host&) const override {
    CheckOutcome outcome = load_error_findings(project, true, "");
    if (!outcome.skipped.empty()) return outcome;
    if (project.references.empty() && !project.document.contains("run") && !project.document.contains("predict") &&
        !project.document.contains("train")) {
      Finding finding;
      finding.where = Location{project.config_label, 0, 0};
      finding.message = "no predict or train reference found in " + project.config_label +
                        ": `cog build` cannot generate the model's schema";
      finding.remediation = "add `run: \"run.py:Runner\"` to " + project.config_label +
                            ", naming the file and the class that defines run()";
      outcome.findings.push_back(finding);
    }
    return outcome;
  }
};

}  // namespace

std::unique_ptr<Check> config_parse_check() { return std::make_unique<ConfigParse>(); }
std::unique_ptr<Check> config_schema_check() { return std::make_unique<ConfigSchema>(); }
std::unique_ptr<Check> predict_ref_check() { return std::make_unique<PredictRef>(); }

}  // namespace cog::builder::doctor
