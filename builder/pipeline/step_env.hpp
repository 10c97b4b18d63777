#pragma once
// The environment of build steps and of the image: cog.yaml's `environment`, ENV steps of the
// plan, a CUDA layer's variables and a base image's Env, each expanded as Docker does.
#include <string>
#include <vector>

#include "builder/pipeline/context.hpp"
#include "builder/exec/sandbox.hpp"

namespace cog::builder::pipeline {

// PATH when neither a base image nor cog.yaml sets one.
inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What build steps see, NAME=value: the defaults, a base image's Env over them, pip allowed to
// install into Debian's Python, and the ENV set so far.
std::vector<std::string> step_env(const BuildContext& ctx);

// Every networked step trusts the host's CA bundle (a TLS-intercepting proxy may sit between
// this machine and PyPI); it is bound for the step only, never part of a layer.
void trust_host(exec::StepSpec& spec);

// `inputs` plus the environment: it is an input of every step after it.
std::vector<std::string> with_env(const BuildContext& ctx, std::vector<std::string> inputs);

// ENV NAME=value: replaces an earlier value in place, as Docker's image config does.
void set_user_env(BuildContext& ctx, const std::string& name, const std::string& value);

// One ENV step of the plan (Preamble, UserEnvironment, RuntimeEnvironment).
void set_env_step(BuildContext& ctx, const plan::Step& step);

}  // namespace cog::builder::pipeline
