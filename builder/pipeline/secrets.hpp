#pragma once
// --secret: files given to `build.run` steps that mount them, never part of a layer.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "builder/pipeline/context.hpp"
#include "builder/exec/sandbox.hpp"

namespace cog::builder::pipeline {

// Secrets from --secret id=ID,src=FILE / id=ID,env=VAR, by id: each copied into `work` with
// mode 0400. Throws cog::Error(Usage/NotFound) naming the --secret that is wrong.
std::map<std::string, std::filesystem::path> parse_secrets(const std::vector<std::string>& specs,
                                                           const std::filesystem::path& work);

// Binds the secrets `step` mounts into `spec` and adds their ids and targets (never their
// content) to the layer's `inputs`; one not given is warned about and left out.
void mount_secrets(const BuildContext& ctx, const plan::Step& step, exec::StepSpec& spec,
                   std::vector<std::string>& inputs);

}  // namespace cog::builder::pipeline
