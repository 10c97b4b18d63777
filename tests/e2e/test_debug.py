"""`cog debug` against golden Dockerfiles, and the compatibility errors it reports.

Each directory under tests/golden/debug/ is a project. Besides the project files it may hold:
  args               extra command-line arguments (whitespace separated)
  cwd                sub-directory to run from (cog.yaml is found upwards)
  make_large_files   paths to create as 11 MiB sparse files (weights for --separate-weights)
  expected_stderr    lines that must each appear in stderr
  expected_stdout    the exact stdout; COG_UPDATE_GOLDEN=1 rewrites it
  expected_requirements  the generated requirements.txt (checked by tests/unit/plan)
"""
import os
import pathlib
import shutil
import subprocess

import pytest

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "debug"
META_FILES = {"args", "cwd", "make_large_files", "expected_stderr", "expected_stdout",
              "expected_requirements"}
LARGE_FILE_SIZE = 11 * 1024 * 1024
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def clean_env():
    env = dict(os.environ)
    for name in ("COG_CA_CERT", "COG_SDK_WHEEL", "COG_REGISTRY_HOST", "COGLET_WHEEL"):
        env.pop(name, None)
    return env


def copy_project(case_dir: pathlib.Path, destination: pathlib.Path) -> None:
    shutil.copytree(case_dir, destination, ignore=lambda d, names: [n for n in names if n in META_FILES])
    large_files = case_dir / "make_large_files"
    if large_files.exists():
        for relative in large_files.read_text().split():
            path = destination / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.truncate(LARGE_FILE_SIZE)


def run_debug(cog_bin, cwd, args):
    return subprocess.run([str(cog_bin), "debug", *args], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", CASES)
def test_golden_dockerfile(cog_bin, tmp_path, case):
    case_dir = GOLDEN / case
    project = tmp_path / case
    copy_project(case_dir, project)
    args = (case_dir / "args").read_text().split() if (case_dir / "args").exists() else []
    cwd = project / (case_dir / "cwd").read_text().strip() if (case_dir / "cwd").exists() else project

    result = run_debug(cog_bin, cwd, args)
    assert result.returncode == 0, result.stderr

    expected_stderr = case_dir / "expected_stderr"
    if expected_stderr.exists():
        for line in expected_stderr.read_text().splitlines():
            assert line in result.stderr

    golden = case_dir / "expected_stdout"
    if os.environ.get("COG_UPDATE_GOLDEN") == "1":
        golden.write_text(result.stdout)
    assert golden.exists(), f"{golden} is missing: run with COG_UPDATE_GOLDEN=1 and review it"
    assert result.stdout == golden.read_text()


def write_project(directory: pathlib.Path, cog_yaml: str, requirements: str = "") -> None:
    (directory / "cog.yaml").write_text(cog_yaml)
    (directory / "run.py").write_text(
        "from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n"
        "    def run(self) -> str:\n        return 'x'\n")
    if requirements:
        (directory / "requirements.txt").write_text(requirements)


GPU_YAML = 'build:\n  gpu: true\n  python_version: "3.12"\n{extra}run: "run.py:Runner"\n'
WITH_REQUIREMENTS = "  python_requirements: requirements.txt\n"

COMPATIBILITY_ERRORS = [
    ("cuda_cudnn_pair", GPU_YAML.format(extra='  cuda: "11.8"\n  cudnn: "9"\n'), "", [],
     "CUDA 11.8 is incompatible with CuDNN 9: compatible CuDNN versions are: 8"),
    ("unknown_torch", GPU_YAML.format(extra=WITH_REQUIREMENTS), "torch==0.4.1\n", [],
     "cog doesn't know what CUDA version is compatible with torch==0.4.1"),
    ("unpinned_torch", GPU_YAML.format(extra=WITH_REQUIREMENTS), "torch>=2\n", [],
     "torch version must be specified when using CUDA"),
    ("tensorflow_cudnn", GPU_YAML.format(extra=WITH_REQUIREMENTS + '  cudnn: "9"\n'),
     "tensorflow==2.15.0\n", [],
     "The specified cuDNN version 9 is not compatible with tensorflow==2.15.0"),
    ("cuda_without_cudnn_image", GPU_YAML.format(extra=WITH_REQUIREMENTS), "tensorflow==2.16.1\n",
     ["--use-cog-base-image=false"], "there is no CUDA 12.3 image with cuDNN 8"),
    ("explicit_cog_base", 'build:\n  python_version: "3.12"\n  python_requirements: requirements.txt\n'
     'run: "run.py:Runner"\n', "torch==2.0.1\n", ["--use-cog-base-image"],
     "unsupported base image configuration: CUDA:  / Python: 3.12 / Torch: 2.0.1"),
    ("exclusive_flags", GPU_YAML.format(extra=""), "",
     ["--use-cog-base-image=false", "--use-cuda-base-image=false"],
     "The flags --use-cuda-base-image and --use-cog-base-image are mutually exclusive: you can "
     "only set one of them."),
]


@pytest.mark.parametrize("name,cog_yaml,requirements,args,message", COMPATIBILITY_ERRORS,
                         ids=[case[0] for case in COMPATIBILITY_ERRORS])
def test_compatibility_errors(cog_bin, tmp_path, name, cog_yaml, requirements, args, message):
    write_project(tmp_path, cog_yaml, requirements)
    result = run_debug(cog_bin, tmp_path, args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.startswith("cog: error: ")


def test_torch_cuda_warning_names_a_better_cuda(cog_bin, tmp_path):
    write_project(tmp_path, GPU_YAML.format(extra=WITH_REQUIREMENTS + '  cuda: "12.4"\n'),
                  "torch==2.0.1\n")
    result = run_debug(cog_bin, tmp_path, ["--use-cog-base-image=false"])
    assert result.returncode == 0, result.stderr
    assert "Cog doesn't know if CUDA 12.4 is compatible with PyTorch 2.0.1." in result.stderr
    assert "Try 11.8 instead?" in result.stderr
    assert "FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04\n" in result.stdout


def test_missing_config_is_reported(cog_bin, tmp_path):
    result = run_debug(cog_bin, tmp_path, [])
    assert result.returncode == 1
    assert "cog.yaml not found in" in result.stderr


def test_hand_written_dockerfile_is_printed(cog_bin, tmp_path):
    write_project(tmp_path, 'build:\n  python_version: "3.12"\nrun: "run.py:Runner"\n')
    (tmp_path / "My.Dockerfile").write_text("FROM scratch\n")
    result = run_debug(cog_bin, tmp_path, ["--dockerfile", "My.Dockerfile"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "FROM scratch\n"


def test_ca_cert_and_registry_host_come_from_the_environment(cog_bin, tmp_path):
    write_project(tmp_path, 'build:\n  python_version: "3.12"\nrun: "run.py:Runner"\n')
    env = clean_env()
    env["COG_CA_CERT"] = "-----BEGIN CERTIFICATE-----"
    env["COG_REGISTRY_HOST"] = "ghcr.io/replicate/cog"
    result = subprocess.run([str(cog_bin), "debug"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "FROM ghcr.io/replicate/cog/cog-base:python3.12\n" in result.stdout
    assert "COPY --from=cog_build cog-ca-cert.crt /tmp/cog-ca-cert.crt\n" in result.stdout
    assert "ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n" in result.stdout
