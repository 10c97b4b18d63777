// The doctor's driver: the checks in order, --fix between them, the report and its exit code.
#include "builder/doctor/doctor.hpp"

#include <cstdlib>
#include <sstream>

#include "builder/container/engine_container.hpp"
#include "builder/container/gpu.hpp"
#include "builder/container/oci_runtime.hpp"

namespace cog::builder::doctor {

std::vector<std::string> Check::fix(const Project& /*project*/) const { return {}; }

std::vector<std::unique_ptr<Check>> all_checks() {
  std::vector<std::unique_ptr<Check>> checks;
  checks.push_back(config_parse_check());
  checks.push_back(config_schema_check());
  checks.push_back(predict_to_run_check());
  checks.push_back(deprecated_fields_check());
  checks.push_back(predict_ref_check());
  checks.push_back(pydantic_basemodel_check());
  checks.push_back(deprecated_imports_check());
  checks.push_back(missing_annotations_check());
  checks.push_back(container_runtime_check());
  checks.push_back(python_version_check());
  checks.push_back(gpu_compat_check());
  return checks;
}

Host real_host() {
  Host host;
  host.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
  host.container_runtime = []() -> std::optional<std::string> {
    try {
      auto runtime = container::detect_runtime();
      return runtime.name() + " (" + runtime.binary.string() + ")";
    } catch (const Error&) {
    }
    for (const char* name : {"docker", "podman"}) {
      try {
        auto engine = container::find_engine(name);
        return engine.name + " (" + engine.binary.string() + ")";
      } catch (const Error&) {
      }
    }
    return std::nullopt;
  };
  host.driver_cuda_version = [] { return container::driver_cuda_version(); };
  return host;
}

namespace {

bool has_fixable(const CheckOutcome& outcome) {
  for (const auto& finding : outcome.findings) {
    if (finding.fixable) return true;
  }
  return false;
}

int count(const Report& report, Severity severity) {
  int total = 0;
  for (const auto& result : report.results) {
    for (const auto& finding : result.outcome.findings) total += finding.severity == severity ? 1 : 0;
  }
  return total;
}

}  // namespace

int Report::errors() const {
  int total = count(*this, Severity::Error);
  for (const auto& result : results) total += result.fix_error ? 1 : 0;
  return total;
}

int Report::warnings() const { return count(*this, Severity::Warning); }

Report run_doctor(const std::filesystem::path& config_path, bool fix, const Host& host) {
  Report report;
  for (const auto& check : all_checks()) {
    CheckResult result;
    result.id = check->id();
    result.description = check->description();
    Project project = inspect_project(config_path);
    result.outcome = check->run(project, host);
    if (fix && has_fixable(result.outcome)) {
      try {
        result.fixed = check->fix(project);
      } catch (const Error& error) {
        result.fix_error = error;
      }
      if (!result.fixed.empty()) result.outcome = check->run(inspect_project(config_path), host);
    }
    report.results.push_back(std::move(result));
  }
  return report;
}

std::string render_report(const Report& report, bool fix) {
  std::ostringstream out;
  out << "cog doctor is experimental: its checks and their output may change between releases\n";
  for (const auto& result : report.results) {
    if (!result.fixed.empty()) {
      out << "Fixed: " << result.description << " [" << result.id << "]\n";
      for (const auto& change : result.fixed) out << "  " << change << "\n";
    }
    if (result.fix_error) {
      out << "error: could not fix " << result.description << " [" << result.id << "]: " << result.fix_error->describe()
          << "\n";
    }
    for (const auto& finding : result.outcome.findings) {
      std::string where = finding.where.str();
      out << (where.empty() ? "" : where + ": ") << (finding.severity == Severity::Error ? "error" : "warning") << ": "
          << finding.message << " [" << result.id << "]\n";
      if (!finding.remediation.empty()) out << "  Remediation: " << finding.remediation << "\n";
      if (finding.fixable && !fix) out << "  Fixable: `cog doctor --fix` makes this change\n";
    }
    if (!result.outcome.skipped.empty()) {
      out << "skipped " << result.id << ": " << result.outcome.skipped << "\n";
    }
  }
  int errors = report.errors();
  int warnings = report.warnings();
  if (errors == 0 && warnings == 0) {
    out << "no issues found\n";
  } else {
    out << errors << (errors == 1 ? " error, " : " errors, ") << warnings << (warnings == 1 ? " warning" : " warnings")
        << "\n";
  }
  return out.str();
}

int exit_code(const Report& report) { return report.errors() > 0 ? 1 : 0; }

}  // namespace cog::builder::doctor
