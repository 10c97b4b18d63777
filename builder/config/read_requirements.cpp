// Phase 3: the Python requirements, from build.python_requirements (a file in the project) or the
// deprecated build.python_packages list, parsed into Config::requirements.
#include "builder/config/load_context.hpp"
#include "builder/config/requirements.hpp"

namespace cog::builder::config {

void read_requirements(LoadContext& context, Config& config) {
  const Build& build = config.build;
  if (!build.python_requirements.empty()) {
    support::InstancePath path{std::string("build"), std::string("python_requirements")};
    std::filesystem::path file(build.python_requirements);
    if (file.is_relative()) file = context.project_dir / file;
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
      context.fail(ErrorKind::NotFound, context.at(path),
                   "invalid build.python_requirements \"" + build.python_requirements + "\": file does not exist",
                   "create it next to cog.yaml, or fix the path");
      return;
    }
    // Errors in the requirements file are located in that file; they sort after cog.yaml's.
    Location elsewhere{build.python_requirements, 0, 0};
    try {
      config.requirements = parse_requirements_file(file, context.project_dir);
    } catch (const Errors& errors) {
      for (const auto& e : errors.all()) context.add(e, elsewhere);
    } catch (const Error& e) {
      context.add(e, elsewhere);
    }
    return;
  }
  std::vector<RequirementLine> lines;
  const nlohmann::json* build_json = member(context.document, "build");
  const nlohmann::json* packages = build_json ? member(*build_json, "python_packages") : nullptr;
  if (!packages || !packages->is_array()) return;
  for (std::size_t i = 0; i < packages->size(); ++i) {
    if (!(*packages)[i].is_string()) continue;
    Location where = context.at({std::string("build"), std::string("python_packages"), i});
    std::string text = (*packages)[i];
    std::size_t start = text.find_first_not_of(" \t");
    std::size_t end = text.find_last_not_of(" \t");
    if (start == std::string::npos) continue;
    lines.push_back({text.substr(start, end - start + 1), where});
  }
  std::vector<Error> errors;
  config.requirements = classify_requirement_lines(lines, context.project_dir, errors);
  for (std::size_t i = 0; i < errors.size(); ++i) {
    // Each python_packages error is located at its item in cog.yaml.
    Location where = lines.empty() ? Location{} : lines.front().where;
    for (const auto& line : lines) {
      if (errors[i].where() == line.where.str()) where = line.where;
    }
    context.add(errors[i], where);
  }
}

}  // namespace cog::builder::config
