// python-missing-type-annotations: every input of run() (or predict(), train()) needs a type, and
// so does the output: the schema is made from them, and the worker refuses an unannotated one
// ("missing type annotation for parameter …"). Only the user knows the types, so there is no fix.
#include <filesystem>

#include "builder/doctor/doctor.hpp"
#include "builder/doctor/python_scan.hpp"
#include "support/text_file.hpp"

namespace cog::builder::doctor {

namespace {

void check_function(const WrittenReference& reference, const python::FunctionDef& function, bool is_method,
                    const std::string& owner, std::vector<Finding>& findings) {
  std::string where = owner.empty() ? function.name + "()" : owner + "." + function.name + "()";
  for (std::size_t i = 0; i < function.parameters.size(); ++i) {
    const auto& parameter = function.parameters[i];
    if ((is_method && i == 0) || parameter.variadic || parameter.annotated) continue;
    Finding finding;
    finding.severity = Severity::Error;
    finding.where = Location{reference.file, parameter.line, 0};
    finding.message = "parameter \"" + parameter.name + "\" of " + where +
                      " has no type annotation: Cog cannot tell what input it takes";
    finding.remediation = "annotate it, e.g. `" + parameter.name + ": str = Input(description=\"…\")`";
    findings.push_back(finding);
  }
  if (!function.returns_annotated) {
    Finding finding;
    finding.severity = Severity::Error;
    finding.where = Location{reference.file, function.statement.line, 0};
    finding.message = where + " has no return type annotation: Cog cannot tell what output it gives";
    finding.remediation = "add the output type after the parameters, e.g. `) -> str:`";
    findings.push_back(finding);
  }
}

class MissingAnnotations : public Check {
 public:
  std::string id() const override { return "python-missing-type-annotations"; }
  std::string description() const override { return "Type annotations on the model's inputs and output"; }

  CheckOutcome run(const Project& project, const Host&) const override {
    CheckOutcome outcome;
    for (const auto& reference : project.references) {
      if (reference.file.empty()) continue;
      std::filesystem::path file = project.dir / reference.file;
      std::error_code error;
      if (!std::filesystem::is_regular_file(file, error)) continue;  // config-predict-ref reports it
      std::string source = support::read_text_file(file);
      bool is_train = reference.key == "train";
      bool found_class = false;
      for (const auto& cls : python::classes(source)) {
        if (cls.name != reference.name || cls.statement.indent != 0) continue;
        found_class = true;
        for (const auto& method : python::methods_of(source, cls)) {
          bool entry = is_train ? method.name == "train" : (method.name == "run" || method.name == "predict");
          if (entry) check_function(reference, method, true, cls.name, outcome.findings);
        }
      }
      if (found_class) continue;
      for (const auto& function : python::functions(source)) {
        if (function.name == reference.name && function.statement.indent == 0) {
          check_function(reference, function, false, "", outcome.findings);
        }
      }
    }
    return outcome;
  }
};

}  // namespace

std::unique_ptr<Check> missing_annotations_check() { return std::make_unique<MissingAnnotations>(); }

}  // namespace cog::builder::doctor
