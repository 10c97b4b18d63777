#pragma once
// `cog doctor`: checks a Cog project (cog.yaml, the model's Python, this machine) for what would
// make `cog build` or `cog run` fail or warn, in Cog's order of checks, and with --fix applies the
// safe rewrites. Each check lives in one file of this folder; this header is the whole interface.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "builder/doctor/project.hpp"
#include "support/error.hpp"

namespace cog::builder::doctor {

enum class Severity { Warning, Error };

// One problem: where it is, what it is, and what to do about it.
struct Finding {
  Severity severity = Severity::Error;
  Location where;           // file (relative to the project) and line; line 0 when the whole file
  std::string message;      // what is wrong
  std::string remediation;  // the exact change to make by hand
  bool fixable = false;     // `cog doctor --fix` makes the change itself
};

// What a check needs of this machine, behind functions so that tests can fake it.
struct Host {
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // "runc (/usr/sbin/runc)" for the first OCI runtime or engine found; nullopt when none.
  std::function<std::optional<std::string>()> container_runtime;
  // cuDriverGetVersion of the host's libcuda (12040 = CUDA 12.4); nullopt without a driver.
  std::function<std::optional<int>()> driver_cuda_version;
};
Host real_host();

struct CheckOutcome {
  std::vector<Finding> findings;
  std::string skipped;  // why the check did not run ("COG_SKIP_GPU_CHECK is set"); empty when it ran
};

class Check {
 public:
  virtual ~Check() = default;
  virtual std::string id() const = 0;           // "config-parse"
  virtual std::string description() const = 0;  // "Deprecated predict interface names"
  virtual CheckOutcome run(const Project& project, const Host& host) const = 0;
  // Rewrites the project so that the fixable findings go away; returns one line per change made.
  // Throws cog::Error, having changed nothing, when a rewrite is unsafe (`run.py already exists`).
  virtual std::vector<std::string> fix(const Project& project) const;
};

// The checks in Cog's order: config-parse, config-schema, predict-to-run-migration,
// config-deprecated-fields, config-predict-ref, python-pydantic-basemodel,
// python-deprecated-imports, python-missing-type-annotations, env-docker, env-python-version,
// env-gpu-compat.
std::vector<std::unique_ptr<Check>> all_checks();

// The check groups (one file each); all_checks() puts them in order.
std::unique_ptr<Check> config_parse_check();
std::unique_ptr<Check> config_schema_check();
std::unique_ptr<Check> predict_to_run_check();
std::unique_ptr<Check> deprecated_fields_check();
std::unique_ptr<Check> predict_ref_check();
std::unique_ptr<Check> pydantic_basemodel_check();
std::unique_ptr<Check> deprecated_imports_check();
std::unique_ptr<Check> missing_annotations_check();
std::unique_ptr<Check> container_runtime_check();
std::unique_ptr<Check> python_version_check();
std::unique_ptr<Check> gpu_compat_check();

struct CheckResult {
  std::string id;
  std::string description;
  CheckOutcome outcome;                 // what is left after any fix
  std::vector<std::string> fixed;       // the changes --fix made
  std::optional<cog::Error> fix_error;  // a fix that was refused (counts as an error)
};

struct Report {
  std::vector<CheckResult> results;
  int errors() const;
  int warnings() const;
};

// Runs every check on the project whose cog.yaml is config_path; with fix, applies each check's
// rewrites before the next check runs, so later checks see the rewritten project.
Report run_doctor(const std::filesystem::path& config_path, bool fix, const Host& host);

// The report as the user reads it (Cog prints it on stderr): one block per finding, then a summary
// line, or `no issues found`.
std::string render_report(const Report& report, bool fix);

// 1 when an error remains (or a fix was refused), else 0: warnings never change the exit code.
int exit_code(const Report& report);

}  // namespace cog::builder::doctor
