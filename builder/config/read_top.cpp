// Phase 2c: the top-level fields besides build and weights: image/model, concurrency and
// environment; then the deprecation warnings, once everything has been read.
#include <set>

#include "builder/config/env_expansion.hpp"
#include "builder/config/load_context.hpp"
#include "builder/config/runner_reference.hpp"
#include "builder/config/version_text.hpp"
#include "support/text_file.hpp"

namespace cog::builder::config {

using nlohmann::json;

namespace {

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return true;
}

// Names Cog reserves for the runtime and the platform: exact names, then prefixes.
bool is_reserved_env_name(const std::string& name) {
  static const std::set<std::string> kExact{"PATH",        "LD_LIBRARY_PATH",          "PYTHONPATH",
                                            "VIRTUAL_ENV", "PYTHONUNBUFFERED",         "LIBRARY_PATH",
                                            "HF_ENDPOINT", "HF_HUB_ENABLE_HF_TRANSFER"};
  if (kExact.count(name)) return true;
  for (const char* prefix : {"R8_", "REPLICATE_", "CUDA_", "NVIDIA_", "NV_", "PGET_", "KUBERNETES_"}) {
    if (name.starts_with(prefix)) return true;
  }
  return false;
}

// Whether the runner's file has an async run()/predict() (class form) or is an async function.
bool runner_is_async(const LoadContext& context, const std::string& reference_text) {
  auto reference = parse_runner_reference(reference_text);
  if (!reference) return true;  // already reported
  const std::string text = cog::support::read_text_file(context.project_dir / reference->file);
  for (const std::string& method : {std::string("run"), std::string("predict"), reference->name}) {
    std::string pattern = "async def " + method + "(";
    if (text.find(pattern) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

void read_image_and_model(LoadContext& context, Config& config) {
  if (const json* image = member(context.document, "image"); image && image->is_string()) {
    config.image = *image;
  }
  const json* model = member(context.document, "model");
  if (!model || !model->is_string()) return;
  std::string text = *model;
  std::string last = text.substr(text.rfind('/') == std::string::npos ? 0 : text.rfind('/') + 1);
  if (text.find('@') != std::string::npos || last.find(':') != std::string::npos) {
    context.fail(ErrorKind::Validation, context.at({std::string("model")}),
                 "invalid model \"" + text + "\": must be a bare repository — tags and digests are not allowed",
                 "remove the :tag or @digest, e.g. model: r8.im/owner/name");
  } else {
    config.model = text;
  }
  if (member(context.document, "image")) {
    context.fail(ErrorKind::Validation, context.at_key({}, "model"), "only one of image or model can be set, not both",
                 "keep model: for pushing to a registry, or image: for a local image name");
  }
}

void read_concurrency(LoadContext& context, Config& config) {
  const json* concurrency = member(context.document, "concurrency");
  if (!concurrency || !concurrency->is_object()) return;
  Concurrency out;
  if (const json* target = member(*concurrency, "default_target"); target && target->is_number_integer()) {
    out.default_target = target->get<int>();
  }
  const json* max = member(*concurrency, "max");
  if (!max || !max->is_number()) return;  // the schema reported it
  support::InstancePath path{std::string("concurrency"), std::string("max")};
  double value = max->get<double>();
  if (value < 1) {
    context.fail(ErrorKind::Validation, context.at(path),
                 "invalid concurrency.max " + context.text_at(path) + ": must be at least 1",
                 "set concurrency.max: 1 or more, or remove the concurrency section");
    return;
  }
  out.max = value > 1e6 ? 1000000 : static_cast<int>(value);
  if (out.max > 1) {
    auto python = parse_dotted_version(config.build.python_version);
    if (python && version_less(*python, {3, 11})) {
      context.fail(ErrorKind::Compatibility, context.at(path),
                   "invalid concurrency.max " + context.text_at(path) + ": concurrency requires Python 3.11 or higher",
                   "set build.python_version: \"3.11\" or newer, or concurrency.max: 1");
    }
    if (!config.run.empty() && !runner_is_async(context, config.run)) {
      context.fail(ErrorKind::Validation, context.at(path),
                   "concurrency.max > 1 requires an async run() or predict() method",
                   "declare it as `async def run(self, ...)` in " + parse_runner_reference(config.run)->file);
    }
  }
  config.concurrency = out;
}

void read_environment(LoadContext& context, Config& config) {
  const json* environment = member(context.document, "environment");
  if (!environment || !environment->is_array()) return;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < environment->size(); ++i) {
    const json& entry = (*environment)[i];
    if (!entry.is_string()) continue;  // the schema reported it
    const std::string& text = entry.get_ref<const std::string&>();
    Location where = context.at({std::string("environment"), i});
    std::size_t equals = text.find('=');
    std::string name = text.substr(0, equals);
    if (equals == std::string::npos || !is_env_name(name)) {
      context.fail(ErrorKind::Validation, where, "environment variable \"" + text + "\" is not in the KEY=VALUE format",
                   "write NAME=value, with a name of letters, digits and underscores");
      continue;
    }
    if (!seen.insert(name).second) {
      context.fail(ErrorKind::Validation, where, "environment variable \"" + name + "\" is already defined",
                   "remove one of the two " + name + "= entries");
      continue;
    }
    if (is_reserved_env_name(name)) {
      context.fail(ErrorKind::Validation, where,
                   "environment variable \"" + name + "\" is not allowed: reserved for internal use",
                   "choose another name; Cog and the platform set " + name + " themselves");
      continue;
    }
    // The value is expanded at build time as Docker expands ENV: its syntax is checked now.
    try {
      expand_env_value(
          text.substr(equals + 1), [](const std::string&) { return std::nullopt; }, name);
    } catch (const Error& error) {
      context.fail(ErrorKind::Validation, where, "environment variable \"" + name + "\": " + error.message(),
                   error.fix());
      continue;
    }
    config.environment.emplace_back(name, text.substr(equals + 1));
  }
}

void warn_deprecations(LoadContext& context, const Config& config) {
  auto deprecated = [&](const support::InstancePath& parent, const std::string& key, const std::string& field,
                        const std::string& replacement) {
    context.warn(context.at_key(parent, key),
                 "deprecated field \"" + field + "\": use \"" + replacement + "\" instead");
  };
  const json& document = context.document;
  if (member(document, "predict")) deprecated({}, "predict", "predict", "run");
  if (const json* build = member(document, "build")) {
    support::InstancePath build_path{std::string("build")};
    if (member(*build, "python_packages")) {
      deprecated(build_path, "python_packages", "build.python_packages", "build.python_requirements");
    }
    if (member(*build, "pre_install")) deprecated(build_path, "pre_install", "build.pre_install", "build.run");
  }
  if (const json* concurrency = member(document, "concurrency"); concurrency && member(*concurrency, "max")) {
    deprecated({std::string("concurrency")}, "max", "concurrency.max", "@cog.concurrent");
  }
  if (member(document, "tests")) {
    context.warn(context.at_key({}, "tests"),
                 "field \"tests\" is ignored: it only applied to classic Cog (0.16 and older)",
                 "remove it from cog.yaml");
  }
}

}  // namespace cog::builder::config
