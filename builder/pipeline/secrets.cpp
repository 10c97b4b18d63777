#include "builder/pipeline/secrets.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/error.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {

std::map<std::string, fs::path> parse_secrets(const std::vector<std::string>& specs, const fs::path& work) {
  std::map<std::string, fs::path> secrets;
  for (const auto& spec : specs) {
    std::map<std::string, std::string> fields;
    std::istringstream parts(spec);
    std::string part;
    while (std::getline(parts, part, ',')) {
      auto equals = part.find('=');
      if (equals == std::string::npos) {
        throw Error(ErrorKind::Usage, "--secret " + spec, "expected key=value pairs",
                    "use --secret id=ID,src=FILE or --secret id=ID,env=VARIABLE");
      }
      fields[part.substr(0, equals)] = part.substr(equals + 1);
    }
    if (fields["id"].empty()) {
      throw Error(ErrorKind::Usage, "--secret " + spec, "the secret has no id", "add id=ID");
    }
    const std::string id = fields["id"];
    if (!fields["src"].empty()) {
      if (!fs::exists(fields["src"])) {
        throw Error(ErrorKind::NotFound, "--secret " + spec, "file \"" + fields["src"] + "\" does not exist",
                    "check the src= path");
      }
      // A copy, so the step sees BuildKit's default mode (0400) whatever the file's own.
      const fs::path file = work / ("secret-" + id);
      fs::copy_file(fields["src"], file, fs::copy_options::overwrite_existing);
      fs::permissions(file, fs::perms::owner_read);
      secrets[id] = file;
    } else if (!fields["env"].empty()) {
      const char* value = std::getenv(fields["env"].c_str());
      if (!value) {
        throw Error(ErrorKind::NotFound, "--secret " + spec, "environment variable " + fields["env"] + " is not set",
                    "export it first");
      }
      const fs::path file = work / ("secret-" + id);
      std::ofstream(file) << value;
      fs::permissions(file, fs::perms::owner_read);
      secrets[id] = file;
    } else {
      throw Error(ErrorKind::Usage, "--secret " + spec,
                  "the secret has neither src= nor env=", "use --secret id=ID,src=FILE or --secret id=ID,env=VARIABLE");
    }
  }
  return secrets;
}

void mount_secrets(const BuildContext& ctx, const plan::Step& step, exec::StepSpec& spec,
                   std::vector<std::string>& inputs) {
  for (const auto& mount : step.secrets) {
    auto found = ctx.secrets.find(mount.id);
    if (found == ctx.secrets.end()) {
      // As BuildKit's secret mounts (required=false by default): the step runs without it.
      ctx.progress("warning: build.run: secret \"" + mount.id + "\" was not given, so `" + step.command +
                   "` runs without " + mount.target + " (pass it with --secret id=" + mount.id + ",src=FILE)");
      inputs.push_back("secret " + mount.id + " absent");
      continue;
    }
    spec.secrets.push_back({found->second, mount.target});
    inputs.push_back("secret " + mount.id + " " + mount.target);
  }
}

}  // namespace cog::builder::pipeline
