#pragma once
// The build plan: the ordered steps an image build performs for a completed cog.yaml, each with
// what its cache key depends on. The daemonless image builder executes it; `cog debug` renders
// it as the Dockerfile Cog would generate (render.hpp). The plan is a pure function of the
// config, the compatibility matrix and the options: no clock, no network.
#include <optional>
#include <string>
#include <vector>

#include "builder/config/compat.hpp"
#include "builder/config/config.hpp"
#include "builder/plan/weights.hpp"
#include "support/error.hpp"

namespace cog::builder::plan {

enum class StepKind {
  WeightsStage,        // image:   the `<image>-weights` image the runner copies weights from
  Base,                // image:   what the build starts FROM
  Preamble,            // env:     DEBIAN_FRONTEND, PYTHONUNBUFFERED, LD_LIBRARY_PATH, NVIDIA_…
  CaCert,              //          trust COG_CA_CERT (copied from the cog_build context)
  Init,                // version: tini as PID 1
  UserEnvironment,     // env:     cog.yaml `environment`, sorted by name
  AptPackages,         // packages: `system_packages` (minus what a cog-base image has)
  PythonToolchain,     // packages: what installing Python needs on an nvidia/cuda base
  UvInstall,           // image:   the image uv is copied from
  PythonInstall,       // version: Python installed with uv on an nvidia/cuda base
  PythonSymlink,       //          /usr/local/bin/python on CUDA >= 13 cog-base images
  PipRequirements,     // text:    the generated requirements.txt; packages: local artifacts
  SdkInstall,          // package: the Cog SDK pip spec
  LdConfig,            //          make shared objects of Python packages findable
  RunCommand,          // command, secrets: one `build.run` / `pre_install` item
  WeightsCopy,         // path:    a weight file or directory from the weights image
  Workdir,             // path
  Expose,              // port
  RuntimeEnvironment,  // env:     COG_PREDICT_TYPE_STUB, COG_TRAIN_TYPE_STUB, COG_MAX_CONCURRENCY
  Cmd,                 // command: the server the image runs
  CopySource,          //          the project directory into /src (not in dev builds)
  CopyConfig,          // path:    a non-default config file name, copied to /src/cog.yaml
};

struct EnvVar {
  std::string name;
  std::string value;
};

// One thing a step's cache key depends on, beyond the key of the step before it.
struct CacheInput {
  std::string name;   // "packages", "requirements.txt", "command", "project files", …
  std::string value;  // the value itself, or a description of content the builder hashes
};

struct Step {
  StepKind kind = StepKind::Base;
  std::string image;
  std::vector<EnvVar> env;
  std::vector<std::string> packages;
  std::string package;                 // SdkInstall: "cog", "cog==0.18.0", or a wheel URL
  bool pre_release = false;            // SdkInstall: pip --pre
  bool break_system_packages = false;  // pip on an nvidia/cuda base (Debian-managed Python)
  std::string version;
  std::string text;
  std::string command;
  std::vector<config::SecretMount> secrets;
  std::string path;
  int port = 0;

  std::vector<CacheInput> cache_inputs;
  // How our daemonless builder deliberately performs this step differently from Cog's
  // BuildKit build. Empty when it does the same. Never shown in the Dockerfile view.
  std::string deviation;
};

struct PlanOptions {
  config::BaseImageRequest base;
  bool dev = false;                           // run/serve/exec/train builds: source is mounted, not copied
  bool separate_weights = false;              // --separate-weights
  std::string image_name;                     // needed for --separate-weights (`<image>-weights`)
  std::string config_file_name = "cog.yaml";  // -f; a different name adds a `RUN cp`
  bool ca_cert = false;                       // COG_CA_CERT is set
  std::string sdk_wheel;                      // COG_SDK_WHEEL
  // Weights found in the project; detected from config.project_dir when separate_weights is set
  // and this is empty.
  std::optional<WeightPaths> weights;
};

struct Plan {
  config::Config config;  // completed: cuda/cudnn filled in
  config::BaseImage base;
  std::string requirements;                  // contents of .cog/build/requirements.txt ("" = no pip step)
  std::vector<std::string> local_artifacts;  // project-relative files the pip step installs
  std::vector<Step> steps;                   // the runner image, in order
  WeightPaths weights;                       // with separate_weights: what goes into the weights image
  std::string weights_image;                 // `<image>-weights` with separate_weights, else ""
  std::vector<Warning> warnings;
};

// Completes the config (CUDA/cuDNN), chooses the base image, rewrites the requirements and lays
// out the steps. Throws cog::Error on impossible combinations.
Plan make_plan(config::Config config, const config::CompatMatrix& matrix, const PlanOptions& options);

// The Debian packages every cog-base image carries (reference §3.2), sorted.
const std::vector<std::string>& cog_base_apt_packages();

// The Cog SDK pip spec for build.sdk_version / COG_SDK_WHEEL: {package, pre_release}.
std::pair<std::string, bool> sdk_package_spec(const std::string& sdk_version, const std::string& sdk_wheel);

}  // namespace cog::builder::plan
