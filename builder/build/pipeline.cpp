#include "builder/build/pipeline.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

#include "builder/build/base_image.hpp"
#include "builder/build/cuda_layer.hpp"
#include "builder/build/dockerignore.hpp"
#include "builder/build/labels.hpp"
#include "builder/build/python_standalone.hpp"
#include "builder/build/runtime_files.hpp"
#include "builder/build/worker_build.hpp"
#include "builder/build/schema.hpp"
#include "builder/config/compat.hpp"
#include "builder/config/env_expansion.hpp"
#include "builder/container/rootfs_cache.hpp"
#include "builder/exec/debian_base.hpp"
#include "builder/exec/install_steps.hpp"
#include "builder/exec/sandbox.hpp"
#include "builder/oci/digest.hpp"
#include "builder/oci/image_builder.hpp"
#include "builder/oci/layer_cache.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/tar_writer.hpp"
#include "builder/oci/transport.hpp"
#include "builder/plan/image_name.hpp"
#include "builder/plan/plan.hpp"
#include "builder/support/error.hpp"
#include "builder/support/text_file.hpp"
#include "builder/support/scratch_dir.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace cog::builder::build {
namespace {

const char* const kPipBreakSystemPackages = "PIP_BREAK_SYSTEM_PACKAGES=1";
const char* const kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fs::path default_cache_root() {
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) return fs::path(cache) / "cog";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".cache" / "cog";
}

std::string format_seconds(std::chrono::milliseconds elapsed) {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(1);
  text << static_cast<double>(elapsed.count()) / 1000.0 << "s";
  return text.str();
}

// Secrets from --secret id=ID,src=FILE / id=ID,env=VAR, by id.
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
        throw Error(ErrorKind::NotFound, "--secret " + spec,
                    "environment variable " + fields["env"] + " is not set", "export it first");
      }
      const fs::path file = work / ("secret-" + id);
      std::ofstream(file) << value;
      fs::permissions(file, fs::perms::owner_read);
      secrets[id] = file;
    } else {
      throw Error(ErrorKind::Usage, "--secret " + spec, "the secret has neither src= nor env=",
                  "use --secret id=ID,src=FILE or --secret id=ID,env=VARIABLE");
    }
  }
  return secrets;
}

std::string hash_text(const std::string& text) { return oci::sha256_of(text).hex; }

class Pipeline {
 public:
  Pipeline(const config::LoadedConfig& loaded, const BuildOptions& options, const ProgressSink& progress)
      : config_(loaded.config),
        options_(options),
        progress_(progress),
        cache_root_(options.cache_dir.empty() ? default_cache_root() : options.cache_dir),
        store_(options.store_dir.empty() ? oci::default_store_path() : options.store_dir),
        layer_cache_(oci::default_layer_cache_path(), store_.layout()),
        image_(store_.layout()),
        work_(cache_root_ / "tmp", "build-"),
        layer_dirs_(cache_root_ / "layer-dirs") {
    fs::create_directories(layer_dirs_);
  }

  BuildResult run() {
    result_.image_name = image_name();
    progress_("Building image from environment in " + options_.config_file_name + " as " +
              result_.image_name + "...");
    phase("schema", [&] { make_schema(); });
    phase("plan", [&] { make_plan(); });
    phase("base", [&] { add_base(); });
    phase("cuda", [&] { add_cuda_runtime(); });
    for (const auto& step : plan_.steps) execute(step);
    if (!options_.dev) phase("labels", [&] { add_labels(); });
    phase("commit", [&] { commit(); });
    return result_;
  }

 private:
  template <typename Work>
  void phase(const std::string& name, Work work) {
    const auto start = Clock::now();
    work();
    result_.phases.push_back(
        {name, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)});
  }

  std::string image_name() const { return plan::build_image_name(options_.tag, config_); }

  void make_schema() {
    runtime_ = locate_runtime();
    if (options_.model_optional && config_.run.empty() && config_.train.empty()) return;
    if (!options_.openapi_schema_file.empty()) {
      schema_ = read_schema_file(options_.openapi_schema_file);
    } else if (options_.base_image.empty() &&
               exec::major_minor(config_.build.python_version) != runtime_.python_version) {
      // The host's Python may not parse the model (3.12+ syntax under a 3.11 host): the image's
      // own Python generates the schema once its base is at hand, before any other layer.
      schema_in_base_ = true;
      return;
    } else {
      schema_ = generate_schema(config_, runtime_.sdk_dir, COG_COMPAT_VERSION);
    }
    keep_schema();
  }

  void keep_schema() {
    result_.openapi_schema = schema_.openapi;
    // Cog keeps the schema in the project too, so a bind-mounted /src still has it.
    fs::create_directories(config_.project_dir / ".cog");
    std::ofstream(config_.project_dir / ".cog" / "openapi_schema.json") << schema_.openapi;
  }

  void make_schema_in_base() {
    progress_("  SCHEMA with the image's Python " + base_.python_version);
    schema_ = generate_schema_in_root(config_, runtime_.sdk_dir, COG_COMPAT_VERSION, python_root_,
                                      work_.path / "schema");
    keep_schema();
    if (!plan_.config.concurrency) max_concurrency_ = schema_.max_concurrency;
  }

  void make_plan() {
    plan::PlanOptions plan_options;
    plan_options.dev = options_.dev;
    plan_options.separate_weights = options_.separate_weights && !options_.dev;
    plan_options.image_name = result_.image_name;
    plan_options.config_file_name = options_.config_file_name;
    plan_options.base.use_cuda_base_image = options_.use_cuda_base_image;
    // We never start from r8.im's cog-base (unreachable here): plan for the plain layout.
    plan_options.base.use_cog_base_image = false;
    plan_ = plan::make_plan(config_, config::CompatMatrix::builtin(), plan_options);
    for (const auto& warning : plan_.warnings) progress_("warning: " + warning.describe());
    max_concurrency_ = plan_.config.concurrency ? plan_.config.concurrency->max : schema_.max_concurrency;
  }

  // The first key of the chain: the base, and the timestamp every layer's mtimes are clamped to, so
  // that no layer made at one --timestamp is reused at another. Epoch 0 (the default) adds nothing,
  // which keeps the keys of default builds as they were.
  std::string first_key(const std::string& description, const std::string& base) const {
    std::vector<std::string> inputs = {base};
    if (options_.source_date_epoch != 0) inputs.push_back("epoch " + std::to_string(options_.source_date_epoch));
    return next_key(description, inputs);
  }

  // The key of the next layer: everything before it, and what goes into it.
  std::string next_key(const std::string& description, const std::vector<std::string>& inputs) const {
    std::string text = chain_key_ + "\n" + description;
    for (const auto& input : inputs) text += "\n" + input;
    return hash_text(text);
  }

  // A cache hit needs both the layer blob and its unpacked directory (the lower of later steps).
  bool reuse(const std::string& key, const std::string& description) {
    if (options_.no_cache) return false;
    auto hit = layer_cache_.lookup(key);
    if (!hit) return false;
    const fs::path dir = layer_dirs_ / hit->diff_id.hex;
    if (!fs::exists(dir)) return false;
    image_.add_layer(*hit, description);
    add_lower(dir);
    chain_key_ = key;
    ++result_.layers_reused;
    progress_("  CACHED " + description);
    return true;
  }

  // Layer directories are shared by diff ID, so two steps that change the same (often nothing: a
  // step that only reads a secret) have one directory; overlayfs refuses a lower given twice
  // (ELOOP). Only its topmost place matters: it is applied over everything it touches below.
  void add_lower(const fs::path& dir) {
    std::erase(lowers_, dir);
    lowers_.push_back(dir);
  }

  void keep_layer(const std::string& key, const oci::StoredLayer& layer, const fs::path& upper) {
    layer_cache_.store(key, layer);
    const fs::path dir = layer_dirs_ / layer.diff_id.hex;
    std::error_code ec;
    if (!fs::exists(dir)) fs::rename(upper, dir, ec);
    if (ec || fs::exists(upper)) fs::remove_all(upper, ec);
    add_lower(dir);
    chain_key_ = key;
    ++result_.layers_built;
  }

  oci::LayerOptions layer_options() const {
    oci::LayerOptions layer;
    layer.source_date_epoch = options_.source_date_epoch;
    layer.preserve_owner = true;
    return layer;
  }

  exec::LineSink step_output() const {
    return [this](exec::Stream, std::string_view line) { progress_("  | " + std::string(line)); };
  }

  // A step the progress view shows: "  STEP what", then "  DONE what (1.2s)" once `work` is done.
  template <typename Work>
  void announced(const std::string& description, Work work) {
    progress_("  STEP " + description);
    const auto start = Clock::now();
    work();
    progress_("  DONE " + description + " (" +
              format_seconds(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)) +
              ")");
  }

  void sandbox_layer(const std::string& description, const exec::StepSpec& spec,
                     const std::vector<std::string>& inputs) {
    const std::string key = next_key(description, inputs);
    if (reuse(key, description)) return;
    announced(description, [&] {
      const fs::path upper = work_.path / ("upper-" + std::to_string(++step_count_));
      auto status = exec::run_step({lowers_, upper}, spec, step_output());
      if (!status.ok()) {
        std::string what = status.timed_out   ? "timed out"
                           : status.cancelled ? "was cancelled"
                                              : "exited with status " + std::to_string(status.exit_code);
        throw Error(ErrorKind::Runtime, "build step `" + description + "`", what,
                    "see the step's output above; fix the command or package names in cog.yaml");
      }
      auto layer = image_.add_layer_from_overlay(upper, layer_options(), description);
      keep_layer(key, layer, upper);
    });
  }

  // What build steps see: the defaults, pip allowed to install into Debian's Python (the
  // python:*-slim images Cog builds on do not mark it externally managed), and cog.yaml's
  // `environment`, which Cog sets before any package step.
  std::vector<std::string> step_env() const {
    auto env = exec::default_step_env(options_.source_date_epoch);
    // A base image's Env wins over the defaults, as RUN after FROM sees it.
    for (const auto& variable : base_env_) {
      const auto name = variable.substr(0, variable.find('='));
      std::erase_if(env, [&](const std::string& set) { return set.substr(0, set.find('=')) == name; });
      env.push_back(variable);
    }
    env.push_back(std::string(kPipBreakSystemPackages));
    for (const auto& [name, value] : user_env_) env.push_back(name + "=" + value);
    return env;
  }

  // Every networked step trusts the host's CA bundle (a TLS-intercepting proxy may sit between
  // this machine and PyPI); it is bound for the step only, never part of a layer.
  static void trust_host(exec::StepSpec& spec) {
    if (auto bundle = exec::host_ca_bundle(); !bundle.empty()) exec::trust_host_certificates(spec, bundle);
  }

  // The environment is an input of every step after it.
  std::vector<std::string> with_env(std::vector<std::string> inputs) const {
    for (const auto& [name, value] : user_env_) inputs.push_back("env " + name + "=" + value);
    return inputs;
  }

  void add_base() {
    if (!options_.base_image.empty()) {
      add_external_base();
      return;
    }
    const auto standalone = standalone_python();
    exec::BaseRequest request;
    request.python_version = config_.build.python_version;
    if (standalone) {
      request.with_python = false;
      progress_("  BASE Debian without Python; Python " + standalone->version + " from " + standalone->file_name);
    } else {
      // The worker links libpython; Debian's python3 binary does not pull the shared library in.
      request.extra_packages = {"libpython" + config_.build.python_version};
      progress_("  BASE Debian with Python " + config_.build.python_version);
    }
    base_ = exec::ensure_debian_base(request, step_output());
    if (standalone) base_.python_version = standalone->version;
    python_root_ = {base_.rootfs};
    // A worker for another Python is compiled inside the image's root (add_runtime): its sources
    // must be at hand, which is checked before any layer is written.
    if ((standalone || runtime_.python_version != exec::major_minor(base_.python_version)) &&
        runtime_.worker_sources.empty()) {
      throw Error(ErrorKind::Compatibility, "build.python_version",
                  "this cog's worker embeds Python " + runtime_.python_version + ", the image has " +
                      base_.python_version + ", and the worker's sources (worker-src/ beside cog-worker) are "
                      "missing, so no worker can be compiled for it",
                  "rebuild cog (target cog-worker), set COG_RUNTIME_DIR to a directory holding cog-server, "
                  "cog-worker and worker-src/, or use python_version: \"" + runtime_.python_version + "\"");
    }
    if (schema_in_base_ && !standalone) phase("schema", [&] { make_schema_in_base(); });
    image_.from_scratch();
    image_.set_created(options_.source_date_epoch);
    const std::string description =
        "debian " + base_.suite + " base (" + (standalone ? std::string("no Python") : base_.python_version) + ")";
    const std::string key = first_key("base", base_.key);
    if (!options_.no_cache) {
      if (auto hit = layer_cache_.lookup(key)) {
        image_.add_layer(*hit, description);
        ++result_.layers_reused;
        progress_("  CACHED " + description);
      }
    }
    if (image_.layers().empty()) {
      auto layer = image_.add_layer_from_directory(base_.rootfs, layer_options(), description);
      layer_cache_.store(key, layer);
      ++result_.layers_built;
    }
    lowers_.push_back(base_.rootfs);
    chain_key_ = key;
    if (standalone) {
      add_standalone_python(*standalone);
      if (schema_in_base_) phase("schema", [&] { make_schema_in_base(); });
    }
  }

  // Where the image's Python comes from: Debian's package when a suite offers python_version (a
  // major.minor: cog.yaml's patch level is stripped when it is read, as Cog does), else the newest
  // python-build-standalone archive of it from COG_PYTHON_STANDALONE (nullopt for Debian). Nothing
  // is substituted: with neither, the error names what both offer.
  std::optional<StandaloneArchive> standalone_python() {
    const std::string& wanted = config_.build.python_version;
    const auto suites = exec::python_suites();
    const bool debian_offers = std::any_of(suites.begin(), suites.end(), [&](const exec::DebianSuite& suite) {
      return suite.python_version == wanted;
    });
    if (debian_offers) return std::nullopt;  // the archives are not even listed, nor warned about
    const char* setting = std::getenv(kPythonStandaloneVariable);
    const auto offer = standalone_archives(setting ? setting : "");
    for (const auto& skipped : offer.skipped) progress_(std::string("warning: ") + kPythonStandaloneVariable + ": " + skipped);
    if (auto picked = pick_standalone(offer.archives, wanted)) return picked;
    std::string archives;
    for (const auto& archive : offer.archives) archives += (archives.empty() ? "" : ", ") + archive.version;
    throw Error(ErrorKind::Compatibility, "build.python_version",
                "Python " + wanted + " is not available: the Debian mirror this builder uses offers only " +
                    exec::debian_python_offers() + ", and " + kPythonStandaloneVariable +
                    (setting && *setting ? " offers " + (archives.empty() ? std::string("no usable archive") : archives)
                                         : std::string(" (python-build-standalone archives) is not set")),
                "set build.python_version to one of those, or list a python-build-standalone install_only "
                "archive of Python " + wanted + " (a file, a directory of them or a URL) in " +
                    kPythonStandaloneVariable);
  }

  // The archive's python/ tree as /usr/local, one layer over the Python-less Debian base, keyed by
  // the archive's content; the worker is compiled against it (use_compiled_worker).
  void add_standalone_python(const StandaloneArchive& archive) {
    const fs::path file = fetch_standalone(archive, cache_root_, [&](const std::string& line) { progress_(line); });
    const std::string digest = oci::sha256_of_file(file).str();
    const std::string description = "python " + archive.version + " (" + archive.file_name + ") at /usr/local";
    const std::string key = next_key("python-build-standalone", {digest, "layout 1"});
    standalone_key_ = hash_text(base_.key + "\n" + digest);
    if (!reuse(key, description)) {
      announced(description, [&] {
        const fs::path staging = work_.path / "python";
        unpack_standalone(file, staging, archive.version);
        oci::LayerOptions options = layer_options();
        options.preserve_owner = false;
        auto layer = image_.add_layer_from_directory(staging, options, description);
        keep_layer(key, layer, staging);
      });
    }
    python_root_ = lowers_;
  }

  // --base-image: the base's layers as they are (same blobs, same digests) and its config
  // inherited, as Docker's FROM does; its root, unpacked once (hostile entries rejected) and shared
  // with `cog run`'s root cache, is the lowest layer of every sandboxed step.
  void add_external_base() {
    const std::string where = "--base-image " + options_.base_image;
    const std::string mirror =
        options_.registry_mirror.empty() ? "" : parse_registry_mirror(options_.registry_mirror);
    auto base = resolve_base_image(options_.base_image, store_, mirror,
                                   [&](const std::string& line) { progress_(line); });
    image_.from_image(store_.layout(), base.manifest);
    image_.set_created(options_.source_date_epoch);
    check_base_platform(image_.config(), options_.base_image);
    const auto manifest = store_.layout().read_manifest(base.manifest.digest);
    progress_("  BASE " + base.source + " (" + std::to_string(manifest.layers.size()) + " layers, " +
              base.manifest.digest.str() + ")");
    lowers_ = unpack_base(store_.layout(), base.manifest, container::default_rootfs_cache_path(),
                          options_.base_image);
    result_.layers_reused += static_cast<int>(manifest.layers.size());
    chain_key_ = first_key("base image", base.manifest.digest.str());
    base_env_ = image_.config().config.env;
    // `build.run` commands run where the base's WORKDIR points, as RUN after FROM does.
    const std::string& workdir = image_.config().config.working_dir;
    if (auto dir = resolve_in_root(lowers_.front(), workdir); !workdir.empty() && dir && fs::is_directory(*dir)) {
      base_workdir_ = workdir;
    }

    auto facts = inspect_base(lowers_, step_env(), work_.path);
    base_.rootfs = lowers_.front();
    base_.suite = facts.apt_suite;
    base_.python_version = facts.python_version;
    base_.init_path = facts.init_path;
    base_.key = base.manifest.digest.hex;
    if (facts.python_version.empty()) {
      throw Error(ErrorKind::Compatibility, where, "the base image has no python3 on its PATH",
                  "use a base image with Python " + runtime_.python_version + " installed as python3");
    }
    // Python mismatch check: the worker embeds one Python, the base brings its own.
    const std::string base_python = major_minor(facts.python_version);
    if (base_python != runtime_.python_version) {
      throw Error(ErrorKind::Compatibility, where,
                  "the base image has Python " + facts.python_version + ", this cog's worker embeds Python " +
                      runtime_.python_version,
                  "use a base image with Python " + runtime_.python_version);
    }
    if (facts.libpython.empty()) {
      progress_("warning: --base-image: no libpython" + base_python +
                ".so.1.0 in the base's usual library directories; the worker embeds it, so the image "
                "may not start (install the base's libpython" + base_python + " package)");
    }
    const auto& written = config_.build.python_version_as_written;
    if (!written.empty() && major_minor(written) != base_python) {
      progress_("warning: build.python_version: " + written + " is ignored, the base image has Python " +
                facts.python_version);
    }
    if (base_.init_path.empty()) add_static_tini();
  }

  static std::string major_minor(const std::string& version) {
    auto first = version.find('.');
    if (first == std::string::npos) return version;
    auto second = version.find('.', first + 1);
    return second == std::string::npos ? version : version.substr(0, second);
  }

  // A base without tini gets this machine's static tini (Debian's `tini` package), so the server
  // never runs as PID 1 (which would leave zombies unreaped); without one, it does, with a warning.
  void add_static_tini() {
    const fs::path tini = host_static_tini();
    if (tini.empty()) {
      progress_("warning: --base-image: the base has no tini and this machine no tini-static "
                "(apt-get install tini); the server runs as PID 1");
      return;
    }
    const std::string description = "tini (init) at /opt/cog/bin/tini";
    const std::string key = next_key(description, {oci::sha256_of_file(tini).str()});
    base_.init_path = "/opt/cog/bin/tini";
    if (reuse(key, description)) return;
    const fs::path staging = work_.path / "tini";
    fs::create_directories(staging / "opt/cog/bin");
    fs::copy_file(tini, staging / "opt/cog/bin/tini");
    fs::permissions(staging / "opt/cog/bin/tini", fs::perms::owner_all | fs::perms::group_read |
                                                      fs::perms::group_exec | fs::perms::others_read |
                                                      fs::perms::others_exec);
    oci::LayerOptions options = layer_options();
    options.preserve_owner = false;
    auto layer = image_.add_layer_from_directory(staging, options, description);
    keep_layer(key, layer, staging);
  }

  // gpu: true: the CUDA / cuDNN runtime wheels right after the base, and the env and labels of an
  // nvidia/cuda base (builder/build/cuda_layer.hpp). A base image that has CUDA already is kept.
  void add_cuda_runtime() {
    auto cuda = plan_cuda_runtime(plan_.config);
    if (!cuda || image_.config().config.get_env("CUDA_VERSION")) return;
    if (options_.use_cuda_base_image == "false") {
      progress_("  NOTE --use-cuda-base-image=false: no CUDA layer; the Python packages bring their own");
      return;
    }
    for (const auto& [name, value] : cuda->env) set_user_env(name, value);
    for (const auto& [name, value] : cuda->labels) image_.config().config.labels[name] = value;
    if (!cuda->note.empty()) progress_("  NOTE " + cuda->note);
    if (cuda->requirements.empty()) return;
    std::string pins;
    for (const auto& wheel : cuda->wheels) pins += " " + wheel.package + "==" + wheel.version;
    progress_("  CUDA wheels:" + pins);
    const fs::path requirements = work_.path / "cuda-requirements.txt";
    std::ofstream(requirements) << cuda->requirements;
    auto spec = cuda_runtime_step(requirements, caches_, options_.source_date_epoch);
    spec.env = step_env();
    trust_host(spec);
    sandbox_layer(cuda->description, spec, with_env({cuda->requirements, "cuda layer 1"}));
  }

  // ENV NAME=value: replaces an earlier value in place, as Docker's image config does.
  void set_user_env(const std::string& name, const std::string& value) {
    for (auto& [set_name, set_value] : user_env_) {
      if (set_name == name) {
        set_value = value;
        return;
      }
    }
    user_env_.emplace_back(name, value);
  }

  // One ENV instruction: every value expanded as Docker does, against the variables as they were
  // before it (the CUDA layer's, a base image's, earlier steps'); LD_LIBRARY_PATH also loses empty
  // and repeated entries.
  void set_env_step(const plan::Step& step) {
    auto before = [this](const std::string& name) -> std::optional<std::string> {
      for (const auto& [set_name, value] : user_env_) {
        if (set_name == name) return value;
      }
      if (name == "PATH" && !image_.config().config.get_env("PATH")) return std::string(kDefaultPath);
      return image_.config().config.get_env(name);
    };
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& variable : step.env) {
      const std::string where = step.kind == plan::StepKind::UserEnvironment ? "environment: " + variable.name
                                                                              : "ENV " + variable.name;
      std::string value = config::expand_env_value(variable.value, before, where);
      if (variable.name == "LD_LIBRARY_PATH") value = expand_library_path(value, "");
      values.emplace_back(variable.name, std::move(value));
    }
    for (const auto& [name, value] : values) set_user_env(name, value);
  }

  void execute(const plan::Step& step) {
    using plan::StepKind;
    switch (step.kind) {
      case StepKind::Preamble:
      case StepKind::UserEnvironment:
      case StepKind::RuntimeEnvironment:
        set_env_step(step);
        break;
      case StepKind::AptPackages:
        phase("system packages", [&] {
          auto spec = exec::apt_install_step(step.packages, caches_, base_.suite, "amd64",
                                             options_.source_date_epoch);
          spec.env = step_env();
          trust_host(spec);
          sandbox_layer("apt-get install " + join(step.packages), spec, with_env(step.packages));
        });
        break;
      case StepKind::PipRequirements:
        phase("python packages", [&] {
          const fs::path requirements = work_.path / "requirements.txt";
          std::ofstream(requirements) << plan_.requirements;
          auto spec = exec::pip_install_step(requirements, caches_, options_.source_date_epoch);
          spec.env = step_env();
          trust_host(spec);
          auto inputs = with_env({plan_.requirements});
          add_local_artifacts(spec, inputs);
          sandbox_layer("pip install -r requirements.txt", spec, inputs);
        });
        break;
      case StepKind::SdkInstall:
        // Deviation: our runtime (C++ server, worker, SDK) instead of the cog wheel.
        phase("runtime", [&] { add_runtime(); });
        break;
      case StepKind::RunCommand:
        phase("run", [&] { run_command(step); });
        break;
      case StepKind::CopySource:
        phase("source", [&] { add_source(); });
        break;
      case StepKind::WeightsStage:
        break;  // no `<image>-weights` image: the weights become layers of this image directly
      case StepKind::WeightsCopy:
        phase("weights", [&] { add_weights(step.path); });
        break;
      default:
        // Base, tini and Python come with the Debian base; WORKDIR/EXPOSE/CMD are set at commit;
        // CopyConfig is folded into the source layer.
        break;
    }
  }

  static std::string join(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : " ") + item;
    return text;
  }

  void add_runtime() {
    // Only on our Debian base so far: its suite and key name the root the worker is compiled in.
    if (options_.base_image.empty() &&
        (!standalone_key_.empty() || runtime_.python_version != exec::major_minor(base_.python_version))) {
      use_compiled_worker();
    }
    // Keyed by the files' identity (path, size, mtime): restaging ~20 MB per build is the slow part.
    std::vector<std::string> inputs;
    auto identify = [&](const fs::path& file) {
      inputs.push_back(file.string() + " " + std::to_string(fs::file_size(file)) + " " +
                       std::to_string(fs::last_write_time(file).time_since_epoch().count()));
    };
    identify(runtime_.server_binary);
    identify(runtime_.worker_binary);
    for (const auto& [soname, file] : runtime_.worker_libraries) identify(file);
    for (const auto& entry : fs::recursive_directory_iterator(runtime_.sdk_dir / "cog")) {
      if (entry.is_regular_file() && entry.path().extension() == ".py") identify(entry.path());
    }
    std::sort(inputs.begin(), inputs.end());
    // A base with its own `python` (python:*-slim keeps it in /usr/local/bin) keeps it.
    auto in_lowers = [&](const char* path) {
      return std::any_of(lowers_.begin(), lowers_.end(), [&](const fs::path& lower) {
        std::error_code ec;
        return fs::symlink_status(lower / path, ec).type() != fs::file_type::not_found;
      });
    };
    // `python` as in Cog's images: to Debian's python3, or to a python-build-standalone one.
    std::string python_link = "/usr/bin/python3";
    if (in_lowers("usr/local/bin/python")) {
      python_link.clear();
      inputs.push_back("base has /usr/local/bin/python");
    } else if (in_lowers("usr/local/bin/python3")) {
      python_link = "python3";
      inputs.push_back("python links to /usr/local/bin/python3");
    }
    // Bump when stage_runtime lays files out differently: the sources alone would not say so.
    inputs.push_back("runtime layout 2");
    const std::string description = "cog runtime (server, worker, SDK)";
    const std::string key = next_key(description, inputs);
    if (reuse(key, description)) return;
    announced(description, [&] {
      const fs::path staging = work_.path / "runtime";
      stage_runtime(runtime_, staging, python_link);
      oci::LayerOptions options = layer_options();
      options.preserve_owner = false;
      auto layer = image_.add_layer_from_directory(staging, options, description);
      keep_layer(key, layer, staging);
    });
  }

  // The worker here embeds another Python than the image's: one compiled inside the base's root
  // (builder/build/worker_build.hpp), cached across builds, replaces it in the runtime layer.
  void use_compiled_worker() {
    WorkerBuildRequest request;
    request.sources = runtime_.worker_sources;
    request.base_layers = python_root_;
    request.base_key = standalone_key_.empty() ? base_.key : standalone_key_;
    request.suite = base_.suite;
    request.python_version = exec::major_minor(base_.python_version);
    if (!standalone_key_.empty()) request.python_prefix = "/usr/local";
    request.caches = caches_;
    request.env = exec::default_step_env(options_.source_date_epoch);
    request.ca_bundle = exec::host_ca_bundle();
    request.cache_root = cache_root_;
    request.scratch = work_.path;
    request.no_cache = options_.no_cache;
    const std::string what = "cog-worker for Python " + request.python_version +
                             (standalone_key_.empty() ? " (Debian " + base_.suite + ")" : " (python-build-standalone)");
    const auto start = Clock::now();
    progress_("  WORKER " + what + ": this cog's worker embeds " + runtime_.python_version);
    auto worker = ensure_worker(request, step_output());
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    progress_(std::string(worker.reused ? "  CACHED " : "  DONE compiled ") + what + " " + worker.key.substr(0, 12) +
              " (" + format_seconds(elapsed) + ")");
    runtime_.worker_binary = worker.binary;
    runtime_.worker_libraries = worker.libraries;
    runtime_.python_version = worker.python_version;
  }

  // Local wheels and sdists named in the requirements (./dist/x.whl) are bound read-only where the
  // generated requirements expect them (/tmp/local_package_artifacts/<path>) and key the layer by
  // content. As Cog does, cog/coglet that they pulled in are uninstalled again: the image's SDK is ours.
  void add_local_artifacts(exec::StepSpec& spec, std::vector<std::string>& inputs) {
    if (plan_.local_artifacts.empty()) return;
    const fs::path staging = work_.path / "local_package_artifacts";
    for (const auto& artifact : plan_.local_artifacts) {
      const fs::path source = config_.project_dir / artifact;
      if (!fs::is_regular_file(source)) {
        throw Error(ErrorKind::NotFound, "python_requirements: " + artifact, "the file does not exist",
                    "build it first, or fix the path in the requirements");
      }
      fs::create_directories((staging / artifact).parent_path());
      fs::copy_file(source, staging / artifact, fs::copy_options::overwrite_existing);
      inputs.push_back("local artifact " + artifact + " " + oci::sha256_of_file(staging / artifact).str());
    }
    spec.binds.push_back({staging, std::string(config::k_local_artifacts_dir), true});
    std::vector<std::string> argv = {"/bin/sh", "-c",
                                     "\"$0\" \"$@\" && python3 -m pip uninstall --yes --quiet "
                                     "--disable-pip-version-check --root-user-action=ignore cog coglet"};
    argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
    spec.argv = std::move(argv);
  }

  // --separate-weights: one layer per weight file or directory (at /src/<path>), before the code.
  // Like Cog's `COPY --link`, the layer depends only on the weights' content, never on the layers
  // below: a new requirement or a code change does not re-tar gigabytes. Nothing after it in the
  // chain is keyed on it (only the source layer follows), so it leaves the chain key alone.
  void add_weights(const std::string& path) {
    oci::LayerOptions options = layer_options();
    options.preserve_owner = false;
    options.prefix = "src";
    options.exclude = [&](const std::string& relative, bool is_directory) {
      const bool inside = relative == path || relative.rfind(path + "/", 0) == 0;
      const bool parent = is_directory && path.rfind(relative + "/", 0) == 0;
      return !inside && !parent;
    };
    auto entries = oci::collect_entries(config_.project_dir, options);
    std::string content = "weights layer 1\n" + path + "\n" + std::to_string(options_.source_date_epoch);
    for (const auto& entry : entries) {
      content += "\n" + entry.path + " " + std::to_string(static_cast<int>(entry.kind)) + " " +
                 std::to_string(entry.mode) + " " + entry.link_target;
      if (entry.kind == oci::TarEntry::Kind::File && !entry.source.empty()) {
        content += " " + oci::sha256_of_file(entry.source).str();
      }
    }
    const std::string key = hash_text(content);
    const std::string description = "COPY --link " + path + " /src/" + path;
    if (!options_.no_cache) {
      if (auto hit = layer_cache_.lookup(key)) {
        image_.add_layer(*hit, description);
        ++result_.layers_reused;
        progress_("  CACHED " + description);
        return;
      }
    }
    announced(description, [&] {
      auto blob = oci::write_layer(std::move(entries), work_.path / "weights.tar.gz", options);
      auto descriptor = store_.layout().write_blob_file(blob.file, blob.media_type, blob.digest, true);
      oci::StoredLayer layer{descriptor, blob.diff_id};
      image_.add_layer(layer, description);
      layer_cache_.store(key, layer);
      ++result_.layers_built;
    });
  }

  bool is_weight(const std::string& relative) const {
    for (const auto& dir : plan_.weights.dirs) {
      if (relative == dir || relative.rfind(dir + "/", 0) == 0) return true;
    }
    return std::find(plan_.weights.files.begin(), plan_.weights.files.end(), relative) !=
           plan_.weights.files.end();
  }

  void run_command(const plan::Step& step) {
    exec::StepSpec spec;
    spec.argv = {"/bin/sh", "-c", step.command};
    if (!base_workdir_.empty()) spec.workdir = base_workdir_;
    spec.env = step_env();
    trust_host(spec);
    std::vector<std::string> inputs = with_env({step.command});
    for (const auto& mount : step.secrets) {
      auto found = secrets_.find(mount.id);
      if (found == secrets_.end()) {
        // As BuildKit's secret mounts (required=false by default): the step runs without it.
        progress_("warning: build.run: secret \"" + mount.id + "\" was not given, so `" + step.command +
                  "` runs without " + mount.target + " (pass it with --secret id=" + mount.id + ",src=FILE)");
        inputs.push_back("secret " + mount.id + " absent");
        continue;
      }
      spec.secrets.push_back({found->second, mount.target});
      inputs.push_back("secret " + mount.id + " " + mount.target);
    }
    sandbox_layer("RUN " + step.command, spec, inputs);
  }

  void add_source() {
    const auto ignore = DockerIgnore::for_project(config_.project_dir);
    oci::LayerOptions options = layer_options();
    options.preserve_owner = false;
    options.prefix = "src";
    options.exclude = [&](const std::string& relative, bool) {
      return relative == ".cog" || relative.rfind(".cog/", 0) == 0 || ignore.excluded(relative) ||
             is_weight(relative);
    };
    auto entries = oci::collect_entries(config_.project_dir, options);
    // The schema at /src/.cog/openapi_schema.json, and a non-default config file as /src/cog.yaml.
    const fs::path schema_file = config_.project_dir / ".cog" / "openapi_schema.json";
    entries.push_back({.path = "src/.cog", .kind = oci::TarEntry::Kind::Directory, .mode = 0755});
    entries.push_back({.path = "src/.cog/openapi_schema.json",
                       .mode = 0644,
                       .size = static_cast<std::int64_t>(fs::file_size(schema_file)),
                       .source = schema_file});
    if (options_.config_file_name != "cog.yaml") {
      std::erase_if(entries, [](const oci::TarEntry& entry) { return entry.path == "src/cog.yaml"; });
      entries.push_back({.path = "src/cog.yaml",
                         .mode = 0644,
                         .size = static_cast<std::int64_t>(fs::file_size(config_.config_path)),
                         .source = config_.config_path});
    }
    announced("COPY . /src", [&] {
      auto blob = oci::write_layer(std::move(entries), work_.path / "source.tar.gz", options);
      auto descriptor = store_.layout().write_blob_file(blob.file, blob.media_type, blob.digest, true);
      image_.add_layer({descriptor, blob.diff_id}, "COPY . /src");
      ++result_.layers_built;
    });
  }

  std::string pip_freeze() {
    const fs::path cached = cache_root_ / "pip-freeze" / chain_key_;
    if (!options_.no_cache && fs::exists(cached)) return support::read_text_file(cached);
    exec::StepSpec spec;
    spec.argv = {"python3", "-m", "pip", "freeze", "--disable-pip-version-check"};
    spec.env = step_env();
    spec.network = exec::Network::None;
    std::string output;
    exec::ExitStatus status;
    announced("pip freeze (run.cog.pip_freeze)", [&] {
      status = exec::run_step({lowers_, work_.path / "upper-freeze"}, spec,
                              [&](exec::Stream stream, std::string_view line) {
                                if (stream == exec::Stream::Stdout) output += std::string(line) + "\n";
                              });
    });
    if (!status.ok()) {
      progress_("warning: pip freeze failed in the image; run.cog.pip_freeze is empty");
      return "";
    }
    fs::create_directories(cached.parent_path());
    std::ofstream(cached) << output;
    return output;
  }

  void add_labels() {
    LabelInputs inputs;
    inputs.version = COG_COMPAT_VERSION;
    inputs.config_json = config_label(plan_.config, max_concurrency_);
    inputs.openapi_schema = schema_.openapi;
    inputs.pip_freeze = pip_freeze();
    inputs.has_init = !base_.init_path.empty();
    inputs.revision = source_revision(config_.project_dir);
    inputs.source_version = source_version(config_.project_dir);
    for (const auto& [name, value] : image_labels(inputs)) image_.config().config.labels[name] = value;
    image_.config().config.labels["run.cog.builder"] = std::string("cog-cpp ") + COG_VERSION;
    for (const auto& [name, value] : options_.labels) image_.config().config.labels[name] = value;
  }

  void commit() {
    auto& runtime = image_.config().config;
    if (!runtime.get_env("PATH")) runtime.set_env("PATH", kDefaultPath);
    for (const auto& [name, value] : user_env_) runtime.set_env(name, value);
    runtime.set_env("COG_SDK_DIR", kImageSdkDir);
    runtime.set_env("PIP_BREAK_SYSTEM_PACKAGES", "1");
    if (max_concurrency_ > 1) runtime.set_env("COG_MAX_CONCURRENCY", std::to_string(max_concurrency_));
    runtime.entrypoint = std::nullopt;  // a base's own entrypoint is replaced, as by ours
    if (!base_.init_path.empty()) runtime.entrypoint = std::vector<std::string>{base_.init_path, "--"};
    runtime.cmd = std::vector<std::string>{kImageServer};
    runtime.working_dir = "/src";
    // A base image's EXPOSEd ports stay, as after FROM; ours is added.
    if (std::find(runtime.exposed_ports.begin(), runtime.exposed_ports.end(), "5000/tcp") ==
        runtime.exposed_ports.end()) {
      runtime.exposed_ports.push_back("5000/tcp");
    }
    announced("image " + result_.image_name, [&] {
      result_.manifest = image_.commit(oci::normalize_image_name(result_.image_name));
    });
    for (const auto& output : options_.outputs) {
      oci::save_image(store_.layout(), result_.manifest, oci::parse_image_reference(output));
      progress_("Wrote " + output);
    }
  }

  const config::Config& config_;
  const BuildOptions& options_;
  const ProgressSink& progress_;
  fs::path cache_root_;
  oci::ImageStore store_;
  oci::LayerCache layer_cache_;
  oci::ImageBuilder image_;
  support::ScratchDir work_;
  fs::path layer_dirs_;
  exec::StepCaches caches_ = exec::default_step_caches();
  std::map<std::string, fs::path> secrets_ = parse_secrets(options_.secrets, work_.path);

  RuntimeFiles runtime_;
  ModelSchema schema_;
  bool schema_in_base_ = false;  // generated by the base's Python (make_schema_in_base)
  std::vector<fs::path> python_root_;  // the base's layers up to its Python: schema and worker run there
  std::string standalone_key_;         // base and archive, when Python comes from an archive
  plan::Plan plan_;
  exec::DebianBase base_;
  int max_concurrency_ = 1;
  std::vector<std::pair<std::string, std::string>> user_env_;
  std::vector<std::string> base_env_;  // a --base-image's Env, NAME=value
  std::string base_workdir_;           // a --base-image's WorkingDir, when it exists in its root
  std::vector<fs::path> lowers_;
  std::string chain_key_;
  int step_count_ = 0;
  BuildResult result_;
};

}  // namespace

BuildResult build_image(const config::LoadedConfig& loaded, const BuildOptions& options,
                        const ProgressSink& progress) {
  return Pipeline(loaded, options, progress).run();
}

}  // namespace cog::builder::build
