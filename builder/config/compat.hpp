#pragma once
// The CUDA / cuDNN / Python / torch / TensorFlow compatibility matrix (schemas/compat/*.json,
// embedded at build time) and what Cog derives from it: the completed CUDA and cuDNN of a GPU
// config, the base image, and the rewritten pip requirements.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/config/config.hpp"
#include "support/error.hpp"

namespace cog::builder::config {

// One torch release built for one CUDA (or for the CPU when `cuda` is empty), with the
// torchvision/torchaudio that go with it and the index pip must use to find it.
struct TorchRow {
  std::string torch;        // "2.3.1+cu121", "1.11.0+cpu", "2.3.1"
  std::string torchvision;  // "0.18.1", "0.12.0+cu113"
  std::string torchaudio;
  std::string find_links;            // usually empty
  std::string extra_index_url;       // "https://download.pytorch.org/whl/cu121/"
  std::optional<std::string> cuda;   // "12.1"; nullopt for the CPU build
  std::vector<std::string> pythons;  // "3.10", …
};

// One nvidia/cuda devel image with cuDNN.
struct CudaImageRow {
  std::string tag;    // "11.8.0-cudnn8-devel-ubuntu22.04"
  std::string cuda;   // "11.8.0"
  std::string cudnn;  // "8"
  bool is_devel = true;
  std::string ubuntu;  // "22.04"
};

// One TensorFlow release and the CUDA/cuDNN it was tested with.
struct TensorflowRow {
  std::string tensorflow;   // "2.11.0"
  std::string cpu_package;  // "tensorflow==2.11.0"
  std::string gpu_package;
  std::string cuda;   // major.minor ("11.2"), truncated on load like Cog does
  std::string cudnn;  // major ("8"), truncated on load like Cog does
  std::vector<std::string> pythons;
};

struct CompatMatrix {
  std::vector<TorchRow> torch;
  std::vector<CudaImageRow> cuda;
  std::vector<TensorflowRow> tensorflow;

  // Parses the three JSON documents in Cog's row formats. Torch rows whose CUDA has no image in
  // the CUDA table are dropped, as Cog drops them. Throws cog::Error(Parse) on malformed data.
  static CompatMatrix from_json(std::string_view torch_json, std::string_view cuda_json,
                                std::string_view tensorflow_json);
  // The matrix compiled into the binary from schemas/compat/. Parsed once; immutable after.
  static const CompatMatrix& builtin();
};

// --- version helpers ---------------------------------------------------------------------------

// "2.3.1+cu121" -> "2.3.1".
std::string strip_local_version(std::string_view version);
// "11.8.0" -> "11.8"; "11" stays "11".
std::string major_minor(std::string_view version);
// Numeric, component-wise comparison ("12.10" > "12.9"); the local part is ignored. <0, 0, >0.
int compare_versions(std::string_view a, std::string_view b);
// Whether `requested` names `candidate`: equal, or a prefix of its components ("2.3" names
// "2.3.1+cu121"). A requested local version ("2.3.1+cu121") must match a local candidate
// exactly, or a candidate without one by its public part.
bool version_matches(std::string_view requested, std::string_view candidate);

// --- lookups -----------------------------------------------------------------------------------

// cuDNN majors that have an image for this CUDA (major.minor or full), newest first.
std::vector<std::string> cudnns_for_cuda(const CompatMatrix& matrix, std::string_view cuda);
// CUDA major.minor versions torch `version` was built for, newest first (empty: CPU-only or
// unknown; see torch_version_known).
std::vector<std::string> cudas_for_torch(const CompatMatrix& matrix, std::string_view version);
bool torch_version_known(const CompatMatrix& matrix, std::string_view version);
const TensorflowRow* find_tensorflow(const CompatMatrix& matrix, std::string_view version);

// The exact version pinned for `package` (normalised name) in config.requirements, if any.
std::optional<std::string> pinned_package_version(const Config& config, std::string_view package);
// Whether `package` appears in the requirements at all (pinned or not).
bool has_package(const Config& config, std::string_view package);

// --- completion (§2.3) -------------------------------------------------------------------------

// Fills config.build.cuda / cudnn for a GPU config (CUDA stays major.minor as configured or
// derived). Warnings are Cog's; impossible combinations throw cog::Error(Compatibility).
// A CPU config is left alone.
std::vector<Warning> complete_cuda(Config& config, const CompatMatrix& matrix);

// --- base image (§3.2) -------------------------------------------------------------------------

enum class BaseImageKind { CogBase, Cuda, PythonSlim };

struct BaseImageRequest {
  // --use-cog-base-image: nullopt = not given (try cog-base, fall back silently).
  std::optional<bool> use_cog_base_image;
  // --use-cuda-base-image: only the literal "false" disables the nvidia/cuda base.
  std::string use_cuda_base_image = "auto";
  // Registry host part of cog-base references (COG_REGISTRY_HOST; Cog's default r8.im).
  std::string registry_host = "r8.im";
};

struct BaseImage {
  BaseImageKind kind = BaseImageKind::PythonSlim;
  std::string reference;      // "r8.im/cog-base:cuda12.1-python3.11-torch2.1.0", …
  std::string cog_base_tag;   // the tag Cog computes, even when it is not used
  std::string cuda_tag;       // nvidia/cuda tag for Cuda bases
  std::string torch_in_base;  // torch version baked into a cog-base image, "" if none
  std::vector<Warning> warnings;
};

// `cuda<mm>-python<mm>-torch<ver>` from the present parts, "latest" when none.
std::string cog_base_image_tag(std::string_view cuda, std::string_view python, std::string_view torch);
// Whether Cog's derived list of cog-base images contains this combination (empty cuda = CPU,
// empty torch = no torch). `torch` must already be normalised (see normalise_torch_for_cog_base).
bool cog_base_image_exists(const CompatMatrix& matrix, std::string_view cuda, std::string_view python,
                           std::string_view torch);
// "2.3" -> "2.3.1": the highest torch in the matrix the request names; "" if none.
std::string normalise_torch_for_cog_base(const CompatMatrix& matrix, std::string_view torch);
// The nvidia/cuda tag for a completed CUDA (major.minor or full) and cuDNN major: the newest
// patch, then the newest Ubuntu. Throws cog::Error(Compatibility) when there is none.
std::string cuda_base_image_tag(const CompatMatrix& matrix, std::string_view cuda, std::string_view cudnn);
// Chooses the base image of a completed config in Cog's order of preference.
BaseImage choose_base_image(const Config& config, const CompatMatrix& matrix, const BaseImageRequest& request);

// --- requirements (§3.4) -----------------------------------------------------------------------

// Where local artifacts (`./dist/pkg.whl`) are installed from inside the image.
inline constexpr std::string_view kLocalArtifactsDir = "/tmp/local_package_artifacts";

struct GeneratedRequirements {
  std::string text;  // the contents of .cog/build/requirements.txt ("" when nothing to install)
  // Project-relative paths of local artifacts; the build copies each to
  // .cog/build/local_package_artifacts/<path>, and `text` names them under kLocalArtifactsDir.
  std::vector<std::string> local_artifacts;
  std::vector<Warning> warnings;
};

// Rewrites config.requirements for the image: torch/torchvision/tensorflow pins resolved to the
// right index for the (completed) CUDA or the CPU, --find-links and --extra-index-url lines
// first, `cog`/`coglet` removed with a warning, local artifacts renamed to their in-image path. `include_packages`
// ("torch==2.3.1") are appended when the requirements do not already name them.
GeneratedRequirements generate_requirements(const Config& config, const CompatMatrix& matrix,
                                            const std::vector<std::string>& include_packages = {});

}  // namespace cog::builder::config
