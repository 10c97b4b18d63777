// Phase 2a: the build section. Python, CUDA and cuDNN versions (shape only: the compatibility
// matrix resolves them later), packages, run steps and the classic fields Cog still meets.
#include <regex>

#include "builder/config/load_context.hpp"
#include "builder/config/version_text.hpp"

namespace cog::builder::config {

using nlohmann::json;
using support::InstancePath;

namespace {

const std::string kBuild = "build";

InstancePath build_path(const std::string& field) { return {kBuild, field}; }

void read_python_version(LoadContext& context, const json& build, Build& out) {
  const json* value = member(build, "python_version");
  if (!value) {
    Location where =
        context.document.contains(kBuild) ? context.at_key({}, kBuild) : Location{context.tree.file_label(), 1, 1};
    context.fail(ErrorKind::Validation, where, "invalid build.python_version: python_version is required",
                 "Add it to the build section of your cog.yaml, e.g. `python_version: \"3.13\"`");
    return;
  }
  if (!value->is_string() && !value->is_number()) return;  // the schema reported it
  // The scalar as written: a YAML float 3.10 must stay "3.10", not become 3.1.
  std::string written = context.text_at(build_path("python_version"));
  Location where = context.at(build_path("python_version"));
  auto parts = parse_dotted_version(written);
  if (!parts) {
    context.fail(ErrorKind::Validation, where,
                 "invalid build.python_version \"" + written + "\": not a valid Python version",
                 "write major.minor, e.g. python_version: \"3.13\"");
    return;
  }
  if (parts->size() < 2) {
    context.fail(
        ErrorKind::Validation, where,
        "invalid build.python_version \"" + written + "\": must include major and minor version (e.g., '3.11')",
        "write major.minor, e.g. python_version: \"3.13\"");
    return;
  }
  if (version_less(*parts, {3, 10})) {
    context.fail(ErrorKind::Validation, where,
                 "invalid build.python_version \"" + written + "\": minimum supported Python version is 3.10",
                 "use python_version: \"3.10\" or newer");
    return;
  }
  std::string major_minor = std::to_string((*parts)[0]) + "." + std::to_string((*parts)[1]);
  if (parts->size() > 2) {
    context.warn(where, "Stripping patch version from Python version " + written + " to " + major_minor,
                 "write python_version: \"" + major_minor + "\" to silence this");
  }
  out.python_version = major_minor;
  out.python_version_as_written = written;
}

void read_cuda(LoadContext& context, const json& build, Build& out) {
  if (const json* cuda = member(build, "cuda"); cuda && cuda->is_string()) {
    std::string text = *cuda;
    Location where = context.at(build_path("cuda"));
    auto parts = parse_dotted_version(text);
    if (!parts) {
      context.fail(ErrorKind::Validation, where, "invalid build.cuda \"" + text + "\": not a valid CUDA version",
                   "write major.minor, e.g. cuda: \"11.8\"");
    } else if ((*parts)[0] < 11) {
      context.fail(ErrorKind::Validation, where,
                   "invalid build.cuda \"" + text + "\": minimum supported CUDA version is 11",
                   "use cuda: \"11.8\" or newer, or remove it to let Cog choose");
    } else if (parts->size() < 2) {
      context.fail(ErrorKind::Validation, where,
                   "invalid build.cuda \"" + text + "\": must include major and minor version (e.g., '11.8')",
                   "write e.g. cuda: \"" + text + ".8\" with the minor version you need");
    } else {
      out.cuda = text;
    }
  }
  if (const json* cudnn = member(build, "cudnn"); cudnn && cudnn->is_string()) {
    std::string text = *cudnn;
    if (!parse_dotted_version(text)) {
      context.fail(ErrorKind::Validation, context.at(build_path("cudnn")),
                   "invalid build.cudnn \"" + text + "\": not a valid cuDNN version",
                   "write the major version, e.g. cudnn: \"8\"");
    } else {
      out.cudnn = text;
    }
  }
}

std::vector<std::string> string_list(const json* list) {
  std::vector<std::string> items;
  if (!list || !list->is_array()) return items;
  for (const auto& item : *list) {
    if (item.is_string()) items.push_back(item);
  }
  return items;
}

void read_run_steps(LoadContext& context, const json& build, Build& out) {
  const json* run = member(build, "run");
  if (!run || !run->is_array()) return;
  for (std::size_t i = 0; i < run->size(); ++i) {
    const json& item = (*run)[i];
    RunStep step;
    if (item.is_string()) {
      step.command = item;
    } else if (const json* command = member(item, "command"); command && command->is_string()) {
      step.command = *command;
      if (const json* mounts = member(item, "mounts"); mounts && mounts->is_array()) {
        for (const auto& mount : *mounts) {
          const json* type = member(mount, "type");
          const json* id = member(mount, "id");
          const json* target = member(mount, "target");
          if (type && type->is_string() && id && id->is_string() && target && target->is_string()) {
            step.mounts.push_back({*type, *id, *target});
          }
        }
      }
    } else {
      continue;  // the schema reported it
    }
    if (step.command.find('\n') != std::string::npos) {
      InstancePath path{kBuild, std::string("run"), i};
      context.fail(ErrorKind::Validation, context.at(path),
                   "One of the commands in 'run' contains a new line, which won't work. This is "
                   "the offending line: " +
                       step.command.substr(0, step.command.find('\n')),
                   "You need to create a new list item in YAML prefixed with '-' for each command.");
    }
    out.run.push_back(std::move(step));
  }
}

void read_sdk_version(LoadContext& context, const json& build, Build& out) {
  const json* sdk = member(build, "sdk_version");
  if (!sdk || !sdk->is_string()) return;
  std::string text = *sdk;
  // PEP 440 public versions as Cog pins them (0.18.0, 0.18.0a1, 0.18.0rc2, 0.18.0.dev3), or the
  // sentinel `prerelease`.
  static const std::regex kPep440(R"(\d{1,9}(\.\d{1,9}){0,4}((a|b|rc)\d{1,9})?(\.post\d{1,9})?(\.dev\d{1,9})?)");
  if (text != "prerelease" && (text.size() > 64 || !std::regex_match(text, kPep440))) {
    context.fail(ErrorKind::Validation, context.at(build_path("sdk_version")),
                 "invalid build.sdk_version \"" + text + "\": not a valid version",
                 "write a PEP 440 version such as \"0.18.0\", or \"prerelease\"");
    return;
  }
  out.sdk_version = text;
}

void read_classic_fields(LoadContext& context, const json& build, Build& out) {
  for (const char* name : {"fast", "cog_runtime", "python_overrides"}) {
    const json* value = member(build, name);
    if (!value) continue;
    context.warn(context.at_key({kBuild}, name),
                 std::string("field \"build.") + name + "\" is ignored: it only applied to classic Cog (0.15/0.16)",
                 "remove it from cog.yaml");
    if (value->is_boolean() && std::string(name) == "fast") out.fast = value->get<bool>();
    if (value->is_boolean() && std::string(name) == "cog_runtime") out.cog_runtime = value->get<bool>();
    if (value->is_string() && std::string(name) == "python_overrides") out.python_overrides = *value;
  }
}

}  // namespace

void read_build(LoadContext& context, Config& config) {
  static const json kEmpty = json::object();
  const json* found = member(context.document, kBuild);
  const json& build = found && found->is_object() ? *found : kEmpty;
  if (found && !found->is_object()) return;  // the schema reported it
  Build& out = config.build;
  read_python_version(context, build, out);
  if (const json* gpu = member(build, "gpu"); gpu && gpu->is_boolean()) out.gpu = *gpu;
  read_cuda(context, build, out);
  out.python_packages = string_list(member(build, "python_packages"));
  if (const json* requirements = member(build, "python_requirements"); requirements && requirements->is_string()) {
    out.python_requirements = *requirements;
  }
  if (member(build, "python_packages") && member(build, "python_requirements")) {
    context.fail(ErrorKind::Validation, context.at_key({kBuild}, "python_packages"),
                 "only one of python_packages or python_requirements can be set, not both",
                 "move the packages into the requirements file and remove python_packages");
  }
  out.system_packages = string_list(member(build, "system_packages"));
  out.pre_install = string_list(member(build, "pre_install"));
  read_run_steps(context, build, out);
  read_sdk_version(context, build, out);
  read_classic_fields(context, build, out);
}

}  // namespace cog::builder::config
