// config-deprecated-fields: the cog.yaml fields Cog deprecates (§2.2) and their replacements.
// --fix moves build.python_packages into requirements.txt, renames build.pre_install to build.run
// when there is no build.run yet, and drops the classic `tests` field; concurrency.max needs a
// decorator in the model's code and is left to the user.
#include <algorithm>  // std::sort
#include <filesystem>

#include "builder/doctor/doctor.hpp"
#include "builder/doctor/edit.hpp"

namespace cog::builder::doctor {

namespace {

const nlohmann::json* member(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

enum class Action { None, RequirementsFile, RenamePreInstall, Remove };

struct Deprecation {
  Finding finding;
  Action action = Action::None;
  int line = 0;
};

std::vector<Deprecation> find_deprecations(const Project& project) {
  std::vector<Deprecation> found;
  const std::string& yaml = project.config_label;
  auto add = [&](const std::vector<std::string>& path, std::string message, std::string remediation, Action action) {
    Deprecation deprecation;
    deprecation.line = project.line_of(path);
    deprecation.finding.severity = Severity::Warning;
    deprecation.finding.where = Location{yaml, deprecation.line, 0};
    deprecation.finding.message = std::move(message);
    deprecation.finding.remediation = std::move(remediation);
    deprecation.finding.fixable = action != Action::None && deprecation.line > 0;
    deprecation.action = action;
    found.push_back(deprecation);
  };
  const nlohmann::json& document = project.document;
  if (const auto* build = member(document, "build")) {
    if (member(*build, "python_packages")) {
      bool requirements_set = member(*build, "python_requirements") != nullptr;
      std::error_code error;
      bool file_taken = std::filesystem::exists(project.dir / "requirements.txt", error);
      add({"build", "python_packages"},
          "deprecated field \"build.python_packages\": use \"build.python_requirements\" instead",
          "write the packages to requirements.txt, one per line, remove build.python_packages and add "
          "`python_requirements: requirements.txt` under build" +
              std::string(file_taken ? " (requirements.txt already exists: merge them by hand)" : ""),
          requirements_set || file_taken ? Action::None : Action::RequirementsFile);
    }
    if (member(*build, "pre_install")) {
      bool has_run = member(*build, "run") != nullptr;
      add({"build", "pre_install"}, "deprecated field \"build.pre_install\": use \"build.run\" instead",
          has_run ? "move these commands to the end of build.run (where Cog runs them now) and remove pre_install"
                  : "rename build.pre_install to build.run",
          has_run ? Action::None : Action::RenamePreInstall);
    }
  }
  if (const auto* concurrency = member(document, "concurrency"); concurrency && member(*concurrency, "max")) {
    std::string max = (*concurrency)["max"].dump();
    add({"concurrency", "max"}, "deprecated field \"concurrency.max\": use \"@cog.concurrent\" instead",
        "remove concurrency.max and decorate the async run() with `@cog.concurrent(max=" + max + ")`", Action::None);
  }
  if (member(document, "tests")) {
    add({"tests"}, "field \"tests\" is ignored: it only applied to classic Cog (0.16 and older)",
        "remove it from " + yaml, Action::Remove);
  }
  return found;
}

class DeprecatedFields : public Check {
 public:
  std::string id() const override { return "config-deprecated-fields"; }
  std::string description() const override { return "Deprecated cog.yaml fields"; }

  CheckOutcome run(const Project& project, const Host&) const override {
    CheckOutcome outcome;
    if (project.parse_error) {
      outcome.skipped = project.config_label + " does not parse";
      return outcome;
    }
    for (const auto& deprecation : find_deprecations(project)) outcome.findings.push_back(deprecation.finding);
    return outcome;
  }

  std::vector<std::string> fix(const Project& project) const override {
    auto deprecations = find_deprecations(project);
    // Bottom to top, so that each edit leaves the line numbers of the ones still to come intact.
    std::sort(deprecations.begin(), deprecations.end(),
              [](const Deprecation& a, const Deprecation& b) { return a.line > b.line; });
    auto lines = edit::split_lines(project.config_text);
    std::vector<std::string> changes;
    std::string requirements;
    bool write_requirements = false;
    for (const auto& deprecation : deprecations) {
      if (!deprecation.finding.fixable) continue;
      auto [first, last] = edit::yaml_entry_lines(lines, deprecation.line);
      if (last <= first) continue;
      auto begin = lines.begin() + static_cast<long>(first);
      auto end = lines.begin() + static_cast<long>(last);
      std::string indent = edit::indentation(lines[first]);
      if (deprecation.action == Action::RequirementsFile) {
        for (const auto& package : project.document["build"]["python_packages"]) {
          if (package.is_string()) requirements += package.get<std::string>() + "\n";
        }
        lines.erase(begin, end);
        lines.insert(lines.begin() + static_cast<long>(first), indent + "python_requirements: requirements.txt\n");
        write_requirements = true;
        changes.push_back("moved build.python_packages to requirements.txt (build.python_requirements)");
      } else if (deprecation.action == Action::RenamePreInstall) {
        std::string& line = lines[first];
        line.replace(line.find("pre_install"), std::string("pre_install").size(), "run");
        changes.push_back("renamed build.pre_install to build.run");
      } else if (deprecation.action == Action::Remove) {
        lines.erase(begin, end);
        changes.push_back("removed the classic field \"tests\"");
      }
    }
    if (changes.empty()) return changes;
    if (write_requirements) edit::write_file(project.dir / "requirements.txt", requirements);
    edit::write_file(project.config_path, edit::join_lines(lines));
    return changes;
  }
};

}  // namespace

std::unique_ptr<Check> deprecated_fields_check() { return std::make_unique<DeprecatedFields>(); }

}  // namespace cog::builder::doctor
