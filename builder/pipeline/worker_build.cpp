#include "builder/pipeline/worker_build.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "builder/exec/sandbox.hpp"
#include "builder/oci/digest.hpp"
#include "support/error.hpp"
#include "support/text_file.hpp"
#include "support/scratch_dir.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

// Bump when the compile recipe below changes: the key must then miss.
constexpr int kRecipeVersion = 1;

// Every change of the worker's sources or of the compiler makes a new entry (about 15 MB): the
// newest few per Python are kept, enough to switch between a couple of cog versions.
constexpr std::size_t kKeptPerPython = 3;

const char* const kSourcesTarget = "/tmp/cog-worker-src";
const char* const kOutputTarget = "/tmp/cog-worker-out";

// The flags are those of a Release build of the cog-worker target (top-level and
// runtime/CMakeLists.txt), including the RPATH that finds /opt/cog/lib inside the image.
// Arguments: python major.minor, its prefix, cog version, the pybind11 to pip-install ("" = apt's),
// then the apt packages to install.
const char* const kCompileScript = R"(set -e
py="$1"; prefix="$2"; version="$3"; pybind11="$4"; shift 4
apt-get update -qq
apt-get install -qqy --no-install-recommends "$@"
src=/tmp/cog-worker-src; out=/tmp/cog-worker-out; obj=/tmp/cog-worker-obj
mkdir -p "$obj" "$out/bin" "$out/lib"
includes="-isystem $prefix/include/python$py"
libdirs=""
home=""
pylib="-lpython$py"
rpath='$ORIGIN/../lib'
if [ -n "$pybind11" ]; then
  "$prefix/bin/python3" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --no-compile --target /tmp/cog-pybind11 "$pybind11"
  includes="$includes -isystem /tmp/cog-pybind11/pybind11/include"
  libdirs="-L$prefix/lib"
  pylib="$prefix/lib/libpython$py.so"
  if [ -e "$prefix/lib/libpython$py.so.1.0" ]; then pylib="$prefix/lib/libpython$py.so.1.0"; fi
  rpath="$rpath:$prefix/lib"
  home="-DCOG_PYTHON_HOME=\"$prefix\""
fi
cd "$src"
for unit in $(find runtime support -name '*.cpp' -o -name '*.cc' | LC_ALL=C sort); do
  echo "g++ $unit"
  g++ -std=c++20 -O2 -DNDEBUG -Wall -Wextra -Wno-unused-parameter "-DCOG_VERSION=\"$version\"" \
    -I"$src" -I"$src/generated" $includes $home \
    -c "$unit" -o "$obj/$(echo "$unit" | tr / _).o"
done
g++ -O2 -o "$out/bin/cog-worker" "$obj"/*.o $libdirs "$pylib" -ldl -lm \
  -Wl,-rpath,"$rpath" -Wl,--disable-new-dtags
: > "$out/libraries.txt"
if [ -n "$libdirs" ]; then export LD_LIBRARY_PATH="$prefix/lib"; fi
ldd "$out/bin/cog-worker" | while read -r soname arrow file rest; do
  if [ "$arrow" = "=>" ] && [ -f "$file" ]; then
    real=$(readlink -f "$file")
    cp "$real" "$out/lib/${real##*/}"
    echo "$soname ${real##*/}" >> "$out/libraries.txt"
  fi
done
dpkg-query -W -f='${Package} ${Version}\n' "$@" | LC_ALL=C sort > "$out/compiler.txt"
)";

// The pybind11 a Python outside /usr is compiled against: new enough for 3.12 to 3.14.
const char* const kPipPybind11 = "pybind11==2.13.6";

// Holds an flock on `file` while it lives: one compile at a time, later builds wait and reuse.
class FileLock {
 public:
  explicit FileLock(const fs::path& file) : fd_(open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw Error(ErrorKind::Io, file.string(), std::strerror(errno), "check permissions");
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw Error(ErrorKind::Io, file.string(), std::strerror(errno));
    }
  }
  ~FileLock() { close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

fs::path workers_dir(const WorkerBuildRequest& request) { return request.cache_root / "workers"; }

fs::path entry_dir(const WorkerBuildRequest& request, const std::string& key) {
  return workers_dir(request) / ("python" + request.python_version + "-" + key.substr(0, 16));
}

exec::StepSpec base_step(const WorkerBuildRequest& request) {
  exec::StepSpec spec;
  spec.env = request.env;
  if (!request.ca_bundle.empty()) exec::trust_host_certificates(spec, request.ca_bundle);
  return spec;
}

// Candidate versions of the compiler packages from the apt lists cached by earlier steps of this
// suite, without network: the same versions as the last compile means its worker fits.
std::vector<std::string> candidate_packages(const WorkerBuildRequest& request,
                                            const std::vector<std::string>& packages) {
  const fs::path lists = request.caches.apt_lists(request.suite, request.arch);
  if (!fs::exists(lists) || fs::is_empty(lists)) return {};
  exec::StepSpec spec = base_step(request);
  spec.argv = {"/bin/sh", "-c", "apt-cache policy \"$@\"", "apt-cache-policy"};
  spec.argv.insert(spec.argv.end(), packages.begin(), packages.end());
  spec.network = exec::Network::None;
  spec.binds.push_back({lists, "/var/lib/apt/lists", true});
  // The package cache apt steps left there saves building one from the lists (seconds).
  const fs::path apt_cache = request.caches.apt_cache(request.suite, request.arch);
  if (fs::exists(apt_cache)) spec.binds.push_back({apt_cache, "/var/cache/apt", true});
  support::ScratchDir upper(request.scratch, "worker-policy-");
  std::string output;
  auto status = exec::run_step({request.base_layers, upper.path / "upper"}, spec,
                               [&](exec::Stream stream, std::string_view line) {
                                 if (stream == exec::Stream::Stdout) output += std::string(line) + "\n";
                               });
  if (!status.ok()) return {};
  return parse_apt_candidates(output);
}

CompiledWorker read_entry(const fs::path& dir) {
  const auto described = nlohmann::json::parse(support::read_text_file(dir / "worker.json"));
  CompiledWorker worker;
  worker.binary = dir / "bin" / "cog-worker";
  worker.python_version = described.at("python_version").get<std::string>();
  worker.key = described.at("key").get<std::string>();
  worker.compiler_packages = described.at("compiler_packages").get<std::vector<std::string>>();
  for (const auto& [soname, file] : described.at("libraries").items()) {
    worker.libraries[soname] = dir / "lib" / file.get<std::string>();
  }
  return worker;
}

// A cached entry that is complete and readable; anything else is compiled again.
std::optional<CompiledWorker> usable_entry(const fs::path& dir) {
  if (!fs::exists(dir / "worker.json") || !fs::exists(dir / "bin" / "cog-worker")) return std::nullopt;
  try {
    return read_entry(dir);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// Compiles into `output` (bin/, lib/, libraries.txt, compiler.txt) in a sandbox whose upper
// directory is thrown away.
void compile(const WorkerBuildRequest& request, const std::vector<std::string>& packages, const fs::path& output,
             const exec::LineSink& progress) {
  exec::StepSpec spec = base_step(request);
  const auto pip = worker_pip_packages(request.python_prefix);
  spec.argv = {"/bin/sh",
               "-c",
               kCompileScript,
               "compile-worker",
               request.python_version,
               request.python_prefix,
               COG_VERSION,
               pip.empty() ? "" : kPipPybind11};
  spec.argv.insert(spec.argv.end(), packages.begin(), packages.end());
  const fs::path apt_cache = request.caches.apt_cache(request.suite, request.arch);
  const fs::path apt_lists = request.caches.apt_lists(request.suite, request.arch);
  fs::create_directories(apt_cache);
  fs::create_directories(apt_lists);
  spec.binds.push_back({apt_cache, "/var/cache/apt", false});
  spec.binds.push_back({apt_lists, "/var/lib/apt/lists", false});
  spec.binds.push_back({request.sources, kSourcesTarget, true});
  spec.binds.push_back({output, kOutputTarget, false});
  support::ScratchDir upper(request.scratch, "worker-compile-");
  auto status = exec::run_step({request.base_layers, upper.path / "upper"}, spec, progress);
  if (!status.ok()) {
    const std::string what = status.timed_out   ? "timed out"
                             : status.cancelled ? "was cancelled"
                                                : "exited with status " + std::to_string(status.exit_code);
    throw Error(
        ErrorKind::Runtime, "compiling cog-worker for Python " + request.python_version + " in Debian " + request.suite,
        what,
        "see the output above: apt needs the Debian mirror, g++ the worker's sources in " + request.sources.string());
  }
}

}  // namespace

std::vector<std::string> worker_build_packages(const std::string& python_version, const std::string& python_prefix) {
  std::vector<std::string> packages = {"g++", "nlohmann-json3-dev"};
  if (python_prefix == "/usr") packages.insert(packages.end(), {"libpython" + python_version + "-dev", "pybind11-dev"});
  std::sort(packages.begin(), packages.end());
  return packages;
}

std::vector<std::string> worker_pip_packages(const std::string& python_prefix) {
  if (python_prefix == "/usr") return {};
  std::string pin = kPipPybind11;
  return {pin.replace(pin.find("=="), 2, " ")};
}

std::string hash_worker_sources(const fs::path& sources) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(sources)) {
    if (entry.is_regular_file() && entry.path().filename() != ".complete") {
      files.push_back(fs::relative(entry.path(), sources));
    }
  }
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& file : files) {
    const std::string content = support::read_text_file(sources / file);
    text += file.generic_string() + "\n" + std::to_string(content.size()) + "\n" + content;
  }
  return oci::sha256_of(text).hex;
}

std::string worker_cache_key(const std::string& base_key, const std::string& sources_hash,
                             const std::string& python_version, std::vector<std::string> compiler_packages) {
  std::sort(compiler_packages.begin(), compiler_packages.end());
  const nlohmann::json inputs = {
      {"recipe", kRecipeVersion}, {"cog_version", COG_VERSION},       {"base", base_key},
      {"sources", sources_hash},  {"python_version", python_version}, {"compiler_packages", compiler_packages}};
  return oci::sha256_of(inputs.dump()).hex;
}

void prune_compiled_workers(const fs::path& workers, const std::string& python_version, std::size_t keep) {
  const std::string prefix = "python" + python_version + "-";
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(workers, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".partial-")) {
      fs::remove_all(entry.path(), ec);  // left by a compile that was killed
    } else if (name.starts_with(prefix)) {
      entries.emplace_back(fs::last_write_time(entry.path(), ec), entry.path());
    }
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = keep; i < entries.size(); ++i) fs::remove_all(entries[i].second, ec);
}

std::vector<std::string> parse_apt_candidates(const std::string& policy_output) {
  std::vector<std::string> candidates;
  std::string package;
  for (const auto& line : lines_of(policy_output)) {
    if (line[0] != ' ' && line.back() == ':') {
      package = line.substr(0, line.size() - 1);
      continue;
    }
    const auto at = line.find("Candidate:");
    if (at == std::string::npos || package.empty()) continue;
    std::istringstream rest(line.substr(at + std::strlen("Candidate:")));
    std::string version;
    rest >> version;
    if (!version.empty() && version != "(none)") candidates.push_back(package + " " + version);
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

CompiledWorker ensure_worker(const WorkerBuildRequest& request, const exec::LineSink& progress) {
  if (request.sources.empty() || !fs::exists(request.sources / "runtime" / "worker" / "main.cc")) {
    throw Error(ErrorKind::NotFound, "cog-worker sources",
                "needed to compile a worker for Python " + request.python_version + ", not found" +
                    (request.sources.empty() ? std::string() : " in " + request.sources.string()),
                "rebuild cog (the cog-worker target copies them to runtime/worker-src) or set COG_RUNTIME_DIR to "
                "a directory holding cog-server, cog-worker and worker-src/");
  }
  const auto packages = worker_build_packages(request.python_version, request.python_prefix);
  const auto pip_packages = worker_pip_packages(request.python_prefix);
  const std::string sources_hash = hash_worker_sources(request.sources);
  fs::create_directories(workers_dir(request));
  FileLock lock(workers_dir(request) / ".lock");

  if (!request.no_cache) {
    auto candidates = candidate_packages(request, packages);
    if (candidates.size() == packages.size()) {
      candidates.insert(candidates.end(), pip_packages.begin(), pip_packages.end());
      const std::string key = worker_cache_key(request.base_key, sources_hash, request.python_version, candidates);
      if (auto worker = usable_entry(entry_dir(request, key))) {
        std::error_code ignored;  // recently used: pruning goes by this time
        fs::last_write_time(entry_dir(request, key), fs::file_time_type::clock::now(), ignored);
        worker->reused = true;
        return *worker;
      }
    }
  }

  support::ScratchDir output(workers_dir(request), ".partial-");
  compile(request, packages, output.path, progress);
  // What apt installed, and the pinned pip packages: the same list the cache lookup above makes.
  auto installed = lines_of(support::read_text_file(output.path / "compiler.txt"));
  installed.insert(installed.end(), pip_packages.begin(), pip_packages.end());
  nlohmann::json libraries = nlohmann::json::object();
  bool links_python = false;
  for (const auto& line : lines_of(support::read_text_file(output.path / "libraries.txt"))) {
    std::istringstream fields(line);
    std::string soname, file;
    fields >> soname >> file;
    if (soname.empty() || file.empty()) continue;
    libraries[soname] = file;
    if (soname.starts_with("libpython" + request.python_version)) links_python = true;
  }
  if (!links_python) {
    throw Error(ErrorKind::Runtime, "compiling cog-worker for Python " + request.python_version,
                "the compiled worker does not link libpython" + request.python_version,
                "see the compiler output above");
  }
  const std::string key = worker_cache_key(request.base_key, sources_hash, request.python_version, installed);
  const nlohmann::json described = {{"key", key},
                                    {"python_version", request.python_version},
                                    {"suite", request.suite},
                                    {"base", request.base_key},
                                    {"sources", sources_hash},
                                    {"compiler_packages", installed},
                                    {"libraries", libraries}};
  std::ofstream(output.path / "worker.json") << described.dump(2) << "\n";
  fs::remove(output.path / "libraries.txt");
  fs::remove(output.path / "compiler.txt");
  const fs::path dir = entry_dir(request, key);
  fs::remove_all(dir);
  fs::rename(output.path, dir);
  prune_compiled_workers(workers_dir(request), request.python_version, kKeptPerPython);
  return read_entry(dir);
}

}  // namespace cog::builder::pipeline
