// Phase 2d: managed weights (§1.14): unique OCI-safe names, distinct absolute targets that do not
// nest, sources with a uri, and include/exclude globs in the one syntax the packer understands.
#include <map>

#include "builder/config/load_context.hpp"

namespace cog::builder::config {

using nlohmann::json;
using support::InstancePath;

namespace {

// "/a" contains "/a/b" but not "/ab".
bool path_contains(const std::string& outer, const std::string& inner) {
  std::string prefix = outer.back() == '/' ? outer : outer + "/";
  return inner.starts_with(prefix);
}

std::string trim_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

void read_globs(LoadContext& context, const json& source, const InstancePath& source_path, const char* field,
                std::vector<std::string>& out) {
  const json* globs = member(source, field);
  if (!globs || !globs->is_array()) return;
  for (std::size_t i = 0; i < globs->size(); ++i) {
    if (!(*globs)[i].is_string()) continue;
    std::string glob = (*globs)[i];
    InstancePath path = source_path;
    path.insert(path.end(), {std::string(field), i});
    std::string invalid = "invalid " + support::to_dotted_path(path) + " \"" + glob + "\": ";
    if (glob.empty()) {
      context.fail(ErrorKind::Validation, context.at(path), invalid + "must not be empty",
                   "write a glob such as \"*.safetensors\", or remove the entry");
    } else if (glob[0] == '!') {
      context.fail(ErrorKind::Validation, context.at(path), invalid + "negation (\"!\") is not supported",
                   std::string("move the pattern to ") + (std::string(field) == "include" ? "exclude" : "include") +
                       " without the \"!\"");
    } else if (glob.find('\\') != std::string::npos) {
      context.fail(ErrorKind::Validation, context.at(path), invalid + "backslashes are not allowed",
                   "separate path parts with \"/\"");
    } else {
      out.push_back(glob);
    }
  }
}

void read_source(LoadContext& context, const json& source, const InstancePath& path, Weight& weight) {
  if (!source.is_object()) return;
  const json* uri = member(source, "uri");
  if (!uri || !uri->is_string()) return;  // the schema reported it
  InstancePath uri_path = path;
  uri_path.push_back(std::string("uri"));
  if (uri->get_ref<const std::string&>().empty()) {
    context.fail(ErrorKind::Validation, context.at(uri_path),
                 "invalid " + support::to_dotted_path(uri_path) + ": must not be empty",
                 "write hf://owner/repo, https://…, file://… or a path in the project");
    return;
  }
  WeightSource out{*uri, {}, {}};
  read_globs(context, source, path, "include", out.include);
  read_globs(context, source, path, "exclude", out.exclude);
  weight.sources.push_back(std::move(out));
}

}  // namespace

void read_weights(LoadContext& context, Config& config) {
  const json* weights = member(context.document, "weights");
  if (!weights || !weights->is_array()) return;
  if (!weights->empty() && !member(context.document, "model")) {
    context.fail(ErrorKind::Validation, context.at_key({}, "weights"), "weights require 'model' in cog.yaml",
                 "add model: <registry>/<owner>/<name>, the bare repository the weights are pushed to");
  }
  std::map<std::string, std::string> name_of_target;  // normalised target -> weight name
  std::map<std::string, std::size_t> index_of_name;
  for (std::size_t i = 0; i < weights->size(); ++i) {
    const json& entry = (*weights)[i];
    const json* name = member(entry, "name");
    const json* target = member(entry, "target");
    if (!name || !name->is_string() || !target || !target->is_string()) continue;
    InstancePath path{std::string("weights"), i};
    Weight weight{*name, *target, {}};
    if (!index_of_name.emplace(weight.name, i).second) {
      context.fail(ErrorKind::Validation, context.at({std::string("weights"), i, std::string("name")}),
                   "duplicate weight name \"" + weight.name + "\"", "give each entry under weights a different name");
    }
    InstancePath target_path{std::string("weights"), i, std::string("target")};
    std::string invalid = "invalid weights[" + std::to_string(i) + "].target \"" + weight.target + "\": ";
    std::string normalised = weight.target.empty() ? weight.target : trim_trailing_slashes(weight.target);
    if (weight.target.empty() || weight.target[0] != '/') {
      context.fail(ErrorKind::Validation, context.at(target_path), invalid + "must be an absolute path",
                   "write the path the weights are mounted at in the container, e.g. /src/weights");
    } else if (normalised == "/") {
      context.fail(ErrorKind::Validation, context.at(target_path), invalid + "must not be \"/\"",
                   "mount the weights in a directory, e.g. /src/weights");
    } else {
      for (const auto& [other_target, other_name] : name_of_target) {
        if (other_target == normalised) {
          context.fail(ErrorKind::Validation, context.at(target_path),
                       invalid + "is already the target of weight \"" + other_name + "\"",
                       "give each weight its own target");
        } else if (path_contains(other_target, normalised) || path_contains(normalised, other_target)) {
          context.fail(ErrorKind::Validation, context.at(target_path),
                       invalid + "overlaps with the target of weight \"" + other_name + "\" (" + other_target + ")",
                       "use targets that do not contain one another");
        }
      }
      name_of_target.emplace(normalised, weight.name);
    }
    if (const json* source = member(entry, "source")) {
      InstancePath source_path = path;
      source_path.push_back(std::string("source"));
      if (source->is_array()) {
        for (std::size_t s = 0; s < source->size(); ++s) {
          InstancePath item_path = source_path;
          item_path.insert(item_path.end(), {s});
          read_source(context, (*source)[s], item_path, weight);
        }
      } else {
        read_source(context, *source, source_path, weight);
      }
    }
    config.weights.push_back(std::move(weight));
  }
}

}  // namespace cog::builder::config
