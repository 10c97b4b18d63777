#pragma once
// `cog run --local` and `cog serve --local`: the runtime on the host against the project found
// upward from the working directory.
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "builder/container/gpu.hpp"
#include "builder/container/runtime_spec.hpp"

namespace cog::runtime::local {

struct HostRuntimeOptions {
  std::string config_file = "cog.yaml";                  // -f
  std::string python;                                    // --python ("" = the embedded one, Debian's python3)
  std::vector<std::pair<std::string, std::string>> env;  // -e NAME=value
  bool debug = false;
};

struct RunLocalOptions {
  HostRuntimeOptions host;
  std::vector<std::string> inputs;  // -i name=value
  std::optional<std::string> json;  // --json
  std::string output;               // -o
  double setup_timeout_s = 300;
  bool train = false;  // `cog train`: TrainingInput, /trainings, `weights`
  bool use_replicate_token = false;
};

struct ServeLocalOptions {
  HostRuntimeOptions host;
  int port = 8393;
  std::string bind_host = "127.0.0.1";
  std::string upload_url;
};

// `cog run IMAGE` (and `cog run` on the development image): the same prediction flow against a
// container started from the local image store.
struct RunImageOptions {
  RunLocalOptions run;
  std::string image;
  std::optional<std::filesystem::path> project_dir;  // development images: mounted at /src
  std::string runtime;                               // runc | crun | docker | podman | "" = detect
  builder::container::GpuAccess gpus;
  std::vector<builder::container::BindMount> binds;  // managed weights, read-only at their targets
};
int run_image(const RunImageOptions& options, std::ostream& out, std::ostream& err);

// `cog serve`: the image's server on host:port until Ctrl-C / SIGTERM.
struct ServeImageOptions {
  std::string image;
  std::optional<std::filesystem::path> project_dir;
  int port = 8393;
  std::string bind_host = "127.0.0.1";
  std::string upload_url;
  std::string runtime;
  bool debug = false;
  builder::container::GpuAccess gpus;
  std::vector<builder::container::BindMount> binds;  // managed weights, read-only at their targets
};
int serve_image(const ServeImageOptions& options, std::ostream& err);

// Both return the process exit code; errors are thrown as cog::Error for the CLI to print.
int run_local(const RunLocalOptions& options, const std::filesystem::path& cog_exe, std::ostream& out,
              std::ostream& err);
int serve_local(const ServeLocalOptions& options, const std::filesystem::path& cog_exe, std::ostream& err);

}  // namespace cog::runtime::local
