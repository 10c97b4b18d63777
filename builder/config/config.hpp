#pragma once
// The typed model of cog.yaml. Loading and validation live in load.hpp; this header is only data,
// so the build plan, `cog debug` and the image labels can share it without pulling in YAML.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/error.hpp"

namespace cog::builder::config {

// `mounts:` entry of a `build.run` object. Cog only knows `type: secret`.
struct SecretMount {
  std::string type;  // always "secret"
  std::string id;
  std::string target;
};

// One `build.run` item: a plain string, or `{command, mounts}`.
struct RunStep {
  std::string command;
  std::vector<SecretMount> mounts;
};

// One line of a pip requirements file (or one `python_packages` item), already classified.
struct Requirement {
  enum class Kind {
    Package,        // `name[extras]==1.2; marker`, `name>=1`, `name @ https://…`
    ExtraIndexUrl,  // `--extra-index-url URL`
    IndexUrl,       // `--index-url URL` / `-i URL`
    FindLinks,      // `--find-links URL` / `-f URL`
    Option,         // any other `--flag` line (`--pre`, `--no-binary …`), kept verbatim
    Url,            // `git+https://…`, `https://…/x.whl`
    LocalArtifact,  // `./dist/pkg.whl` relative to the project
    Editable,       // `-e …`
  };
  Kind kind = Kind::Package;
  std::string text;       // the line as pip should see it (comment and line continuation removed)
  std::string name;       // normalised project name for Package lines (lower case, `_` → `-`)
  std::string extras;     // `[a,b]` without brackets
  std::string specifier;  // `==2.1.0`, `>=1,<2`; empty when unpinned
  std::string marker;     // text after `;`
  std::string value;      // URL or path for the option kinds
  Location where;         // file:line of the requirement

  // The exact version when the specifier is a single `==X` (or `===X`), else empty.
  std::string pinned_version() const;
};

struct WeightSource {
  std::string uri;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

struct Weight {
  std::string name;
  std::string target;
  std::vector<WeightSource> sources;
};

struct Build {
  bool gpu = false;
  std::string cuda;                          // as configured ("11.8"); completed by the compatibility matrix
  std::string cudnn;                         // as configured ("8");   completed by the compatibility matrix
  std::string python_version;                // major.minor after normalisation ("3.12"); patch stripped
  std::string python_version_as_written;     // what cog.yaml said ("3.12.1", "3.12")
  std::vector<std::string> python_packages;  // deprecated form, as written
  std::string python_requirements;           // path as written in cog.yaml
  std::vector<std::string> system_packages;
  std::vector<RunStep> run;
  std::vector<std::string> pre_install;  // deprecated; appended to `run` at build time
  std::string sdk_version;
  std::optional<bool> cog_runtime;  // classic; accepted and ignored
  std::optional<bool> fast;         // classic; accepted and ignored
  std::string python_overrides;     // classic; accepted and ignored
};

struct Concurrency {
  int max = 1;
  std::optional<int> default_target;
};

struct Config {
  Build build;
  std::string image;
  std::string model;
  // The runner reference (`run.py:Runner`), from `run:` or its legacy name `predict:`.
  std::string run;
  bool run_from_legacy_predict = false;  // true when cog.yaml used `predict:`
  std::string train;
  std::optional<Concurrency> concurrency;
  // `environment` as NAME=value pairs, in the order written.
  std::vector<std::pair<std::string, std::string>> environment;
  std::vector<Weight> weights;

  // Derived while loading: the parsed requirements (from python_requirements or python_packages).
  std::vector<Requirement> requirements;

  // Where it came from.
  std::filesystem::path project_dir;  // directory holding cog.yaml: the build context, /src
  std::filesystem::path config_path;  // the cog.yaml file itself
};

}  // namespace cog::builder::config
