#include "builder/pipeline/wheel_phase.hpp"

#include <fstream>

#include "builder/pipeline/layer_chain.hpp"
#include "builder/pipeline/step_env.hpp"
#include "builder/exec/debian_suites.hpp"
#include "builder/exec/install_steps.hpp"
#include "builder/oci/digest.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

constexpr const char* kWheelDir = "/tmp/cog-wheels";

// The requirement line for one setting; a local wheel is bound into the step under kWheelDir.
std::string requirement_for(const plan::WheelSetting& setting, const std::string& package, const std::string& pin,
                            exec::StepSpec& spec, std::vector<std::string>& inputs) {
  std::string local;
  if (!setting.path.empty()) {
    local = std::string(kWheelDir) + "/" + setting.path.filename().string();
    spec.binds.push_back({fs::absolute(setting.path), local, true});
    inputs.push_back("wheel " + setting.path.filename().string() + " " + oci::sha256_of_file(setting.path).str());
  }
  return plan::wheel_requirement(setting, package, local, pin);
}

}  // namespace

void install_cog_wheels(BuildContext& ctx) {
  exec::StepSpec wheels;  // the local wheels' binds
  std::vector<std::string> inputs = {"cog wheels 1"};
  const std::string pin = ctx.config.build.sdk_version == "prerelease" ? "" : ctx.config.build.sdk_version;
  std::string lines;
  for (const auto& line : {requirement_for(ctx.sdk_wheel, "cog", pin, wheels, inputs),
                           requirement_for(ctx.coglet_wheel, "coglet", "", wheels, inputs)}) {
    if (!line.empty()) lines += line + "\n";
  }
  const fs::path requirements = ctx.work.path / "cog-wheels.txt";
  std::ofstream(requirements) << lines;
  inputs.push_back(lines);
  auto spec = exec::pip_install_step(requirements, ctx.caches, ctx.options.source_date_epoch);
  spec.binds.insert(spec.binds.end(), wheels.binds.begin(), wheels.binds.end());
  if (ctx.sdk_wheel.value.empty() && ctx.config.build.sdk_version == "prerelease") {
    spec.argv.insert(spec.argv.begin() + 4, "--pre");
    inputs.push_back("--pre");
  }
  // `python`, as in Cog's images (the server is started as `python -m cog.server.http`); a base
  // that has one keeps it.
  std::vector<std::string> argv = {
      "/bin/sh", "-c",
      "\"$0\" \"$@\" && { [ -e /usr/local/bin/python ] || ln -s \"$(command -v python3)\" /usr/local/bin/python; }"};
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  spec.argv = std::move(argv);
  spec.env = step_env(ctx);
  trust_host(spec);
  std::string description = "pip install ";
  for (char& c : lines) description += c == '\n' ? ' ' : c;
  sandbox_layer(ctx, description + "(Cog's runtime)", spec, with_env(ctx, inputs));
  if (plan::is_coglet_artifact(ctx.coglet_wheel)) {
    set_user_env(ctx, "R8_COG_VERSION", "coglet");
    set_user_env(ctx, "R8_PYTHON_VERSION", exec::major_minor(ctx.base.python_version));
  }
}

}  // namespace cog::builder::pipeline
