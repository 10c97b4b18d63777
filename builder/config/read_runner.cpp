// Phase 2b: the runner references `run` (or legacy `predict`) and `train`: their shape, and that
// the file exists inside the project and defines the name.

#include "builder/config/load_context.hpp"
#include "builder/config/runner_reference.hpp"
#include "support/text_file.hpp"

namespace cog::builder::config {

using nlohmann::json;

namespace {

// Python files bigger than this are not runner modules; reading them would only slow things down.
constexpr std::uintmax_t kMaxSourceBytes = 16 * 1024 * 1024;

bool escapes_project(const std::filesystem::path& relative) {
  if (relative.is_absolute()) return true;
  int depth = 0;
  for (const auto& part : relative.lexically_normal()) {
    if (part == "..")
      --depth;
    else if (part != ".")
      ++depth;
    if (depth < 0) return true;
  }
  return false;
}

// Returns the validated reference text, or empty when it was reported as invalid.
std::string check_reference(LoadContext& context, const std::string& field, const std::string& example) {
  const json* value = member(context.document, field);
  if (!value || !value->is_string()) return {};
  std::string text = *value;
  Location where = context.at({field});
  std::string invalid = "invalid " + field + " \"" + text + "\": ";
  auto reference = parse_runner_reference(text);
  if (!reference) {
    context.fail(ErrorKind::Validation, where, invalid + "must be in the form '" + example + "'",
                 "point it at a Python file and the class or function in it, e.g. " + field + ": \"" + example + "\"");
    return {};
  }
  if (escapes_project(reference->file)) {
    context.fail(ErrorKind::Validation, where, invalid + reference->file + " is outside the project directory",
                 "move the file into the directory that holds cog.yaml and use a relative path");
    return {};
  }
  std::filesystem::path file = context.project_dir / reference->file;
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    context.fail(ErrorKind::NotFound, where,
                 invalid + reference->file + " does not exist in " + context.project_dir.string(),
                 "create " + reference->file + " next to cog.yaml, or fix the path");
    return {};
  }
  auto size = std::filesystem::file_size(file, error);
  if (error || size > kMaxSourceBytes) return text;
  if (!python_source_defines(cog::support::read_text_file(file), reference->name)) {
    context.fail(ErrorKind::Validation, where,
                 invalid + reference->file + " does not define \"" + reference->name + "\"",
                 "define class " + reference->name + " or def " + reference->name + " at the top level of " +
                     reference->file + ", or fix the name");
    return {};
  }
  return text;
}

}  // namespace

void read_runner_references(LoadContext& context, Config& config) {
  bool has_run = member(context.document, "run") != nullptr;
  bool has_predict = member(context.document, "predict") != nullptr;
  if (has_run) {
    config.run = check_reference(context, "run", "run.py:Runner");
  } else if (has_predict) {
    config.run = check_reference(context, "predict", "predict.py:Predictor");
    config.run_from_legacy_predict = true;
  }
  if (has_run && has_predict) check_reference(context, "predict", "predict.py:Predictor");
  config.train = check_reference(context, "train", "train.py:Trainer");
}

}  // namespace cog::builder::config
