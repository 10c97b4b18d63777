"""gpu: true images: the CUDA / cuDNN runtime libraries from NVIDIA's wheels on PyPI, in a layer right
after the base, with the env and labels of an nvidia/cuda base.

The complete image (about 1.8 GB of wheels) is built only with COG_E2E_HEAVY=1: its libraries are loaded
by the image's Python (dlopen needs no GPU), asked for their versions, and a prediction runs on the CPU.
By default the build is started and stopped once the CUDA step has begun: the step must announce the
pins that go with the matrix's CUDA release, PyPI must have a Linux wheel for each of them (checked
against PyPI's JSON API), and pip must have started fetching the first one from PyPI.

Needs root (namespaces, overlayfs), Debian's mirror for the first base and PyPI."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building images needs root")

heavy = pytest.mark.skipif(os.environ.get("COG_E2E_HEAVY") != "1",
                           reason="downloads ~1.8 GB of CUDA wheels; set COG_E2E_HEAVY=1 to run it")

# Loads the libraries by soname, as a framework would (found through LD_LIBRARY_PATH), and asks each
# for its version: none of these calls needs a GPU or a driver.
RUN_PY = '''import ctypes
import ctypes.util
import json

from cog import BaseRunner, Input


class Runner(BaseRunner):
    def run(self, name: str = Input(default="gpu")) -> str:
        cudart = ctypes.CDLL("libcudart.so.12")
        runtime = ctypes.c_int()
        cudart.cudaRuntimeGetVersion(ctypes.byref(runtime))
        cublas = ctypes.CDLL("libcublas.so.12")
        cublas_major, cublas_minor = ctypes.c_int(), ctypes.c_int()
        cublas.cublasGetProperty(0, ctypes.byref(cublas_major))
        cublas.cublasGetProperty(1, ctypes.byref(cublas_minor))
        cudnn = ctypes.CDLL("libcudnn.so.9")
        cudnn.cudnnGetVersion.restype = ctypes.c_size_t
        return json.dumps({
            "hello": name,
            "cudart": runtime.value,
            "cublas": [cublas_major.value, cublas_minor.value],
            "cudnn": cudnn.cudnnGetVersion(),
            "ldconfig_cudart": ctypes.util.find_library("cudart"),
        })
'''

# What the matrix's CUDA 12.4 (release 12.4.1) with cuDNN 9 installs: builder/pipeline/cuda_wheels.cpp.
PINS_12_4 = {
    "nvidia-cuda-runtime-cu12": "12.4.127", "nvidia-cuda-nvrtc-cu12": "12.4.127",
    "nvidia-nvjitlink-cu12": "12.4.127", "nvidia-cublas-cu12": "12.4.5.8", "nvidia-cufft-cu12": "11.2.1.3",
    "nvidia-curand-cu12": "10.3.5.147", "nvidia-cusparse-cu12": "12.3.1.170",
    "nvidia-cusolver-cu12": "11.6.1.9", "nvidia-nccl-cu12": "2.21.5", "nvidia-cudnn-cu12": "9.28.0.42",
}
SITE = "/usr/local/lib/python3.11/dist-packages/nvidia"


def make_project(path, cuda_lines):
    path.mkdir()
    (path / "cog.yaml").write_text('build:\n  gpu: true\n  python_version: "3.11"\n' + cuda_lines +
                                   'run: "run.py:Runner"\n')
    (path / "run.py").write_text(RUN_PY)
    return path


def cog_env():
    return dict(os.environ, SOURCE_DATE_EPOCH="0")


def scratch_root():
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    return cache / "cog" / "tmp"


def start_and_stop_at_cuda_step(cog_bin, project, tag, wait_for_pip):
    """Runs `cog build` until the CUDA step has started, then kills it. Returns (pins, output lines)."""
    before = set(scratch_root().glob("build-*")) if scratch_root().exists() else set()
    process = subprocess.Popen([str(cog_bin), "build", "--progress", "plain", "-t", tag], cwd=project,
                               env=cog_env(), stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True)
    lines, pins, finished = [], None, False
    deadline = time.monotonic() + 600
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            assert time.monotonic() < deadline, "\n".join(lines)
            if "CUDA wheels:" in line:
                pins = dict(item.split("==") for item in line.split("CUDA wheels:")[1].split())
                if not wait_for_pip:
                    break
            if "CACHED CUDA" in line:  # built before (the heavy test): let the build finish
                finished = True
            if pins and re.search(r"^\s*\| +(Downloading|Using cached) nvidia_cuda_runtime", line):
                break
    finally:
        if not finished and process.poll() is None:
            process.send_signal(signal.SIGKILL)  # the step's processes die with it (PDEATHSIG)
        process.wait(timeout=60)
        # The killed build's scratch directory (its requirements and overlay upper): ours alone have
        # cuda-requirements.txt, so other builds running on this machine are never touched.
        for scratch in (set(scratch_root().glob("build-*")) - before) if scratch_root().exists() else ():
            if (scratch / "cuda-requirements.txt").exists():
                shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run([str(cog_bin), "rmi", tag], capture_output=True)
    assert pins, "no `CUDA wheels:` line:\n" + "\n".join(lines)
    return pins, lines


def pypi_has_linux_wheel(package, version):
    url = f"https://pypi.org/pypi/{package}/json"
    with urllib.request.urlopen(url, timeout=60) as response:
        releases = json.load(response)["releases"]
    files = releases.get(version, [])
    return any(f["filename"].endswith(".whl") and "manylinux" in f["filename"] and "x86_64" in f["filename"]
               and not f.get("yanked") for f in files)


def test_cuda_step_pins_the_release_and_pip_fetches_from_pypi(cog_bin, tmp_path):
    project = make_project(tmp_path / "gpu", '  cuda: "12.4"\n')
    tag = f"cog-e2e-gpu-{uuid.uuid4().hex[:8]}"
    pins, lines = start_and_stop_at_cuda_step(cog_bin, project, tag, wait_for_pip=True)
    assert pins == PINS_12_4
    text = "\n".join(lines)
    assert "CUDA 12.4.1 / cuDNN 9.28.0.42 runtime (NVIDIA wheels from PyPI)" in text
    assert "Collecting nvidia-cuda-runtime-cu12==12.4.127" in text or "CACHED CUDA" in text, text
    for package, version in pins.items():
        assert pypi_has_linux_wheel(package, version), f"PyPI has no Linux wheel for {package}=={version}"


@pytest.mark.parametrize("cuda_lines, runtime", [
    ("", "nvidia-cuda-runtime-cu11"),          # no cuda: Cog's default, CUDA 11.8 with cuDNN 8
    ('  cuda: "13.2"\n', "nvidia-cuda-runtime"),  # CUDA 13's wheels have no -cu13 suffix
])
def test_other_cuda_majors_pin_wheels_that_pypi_has(cog_bin, tmp_path, cuda_lines, runtime):
    project = make_project(tmp_path / "gpu", cuda_lines)
    tag = f"cog-e2e-gpu-{uuid.uuid4().hex[:8]}"
    pins, _ = start_and_stop_at_cuda_step(cog_bin, project, tag, wait_for_pip=False)
    assert runtime in pins and len(pins) >= 9
    for package, version in pins.items():
        assert pypi_has_linux_wheel(package, version), f"PyPI has no Linux wheel for {package}=={version}"


@heavy
def test_gpu_image_has_loadable_cuda_libraries_env_and_labels(cog_bin, tmp_path):
    project = make_project(tmp_path / "gpu", '  cuda: "12.4"\n')
    tag = f"cog-e2e-gpu-{uuid.uuid4().hex[:8]}"
    try:
        build = subprocess.run([str(cog_bin), "build", "--progress", "plain", "-t", tag], cwd=project,
                               env=cog_env(), capture_output=True, text=True, timeout=3600)
        assert build.returncode == 0, build.stdout + build.stderr

        store = pathlib.Path(os.environ.get("XDG_DATA_HOME", pathlib.Path.home() / ".local/share")) / "cog/images"
        inspect = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{store}:{tag}:latest"],
                                            capture_output=True, text=True, check=True).stdout)
        env = dict(item.split("=", 1) for item in inspect["Env"])
        assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
        assert env["NVIDIA_DRIVER_CAPABILITIES"] == "all"
        assert env["NVIDIA_REQUIRE_CUDA"] == "cuda>=12.4"
        assert env["CUDA_VERSION"] == "12.4.1"
        assert env["NV_CUDNN_VERSION"] == "9.28.0.42"
        library_path = env["LD_LIBRARY_PATH"].split(":")
        for directory in ("cuda_runtime", "cublas", "cudnn", "nvjitlink", "nccl"):
            assert f"{SITE}/{directory}/lib" in library_path
        assert "/usr/local/nvidia/lib64" in library_path and "" not in library_path
        labels = inspect["Labels"]
        config = json.loads(labels["run.cog.config"])
        assert config["build"] == {"gpu": True, "python_version": "3.11", "cuda": "12.4", "cudnn": "9"}
        assert labels["com.nvidia.cudnn.version"] == "9.28.0.42"
        frozen = dict(line.split("==") for line in labels["run.cog.pip_freeze"].splitlines() if "==" in line)
        assert {name: frozen.get(name) for name in PINS_12_4} == PINS_12_4

        run = subprocess.run([str(cog_bin), "run", tag, "-i", "name=cpu"], cwd=project, env=cog_env(),
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stdout + run.stderr
        output = json.loads(run.stdout.strip().splitlines()[-1])
        assert output["hello"] == "cpu"
        assert output["cudart"] == 12040  # CUDA 12.4's runtime
        assert output["cublas"] == [12, 4]
        assert output["cudnn"] == 92800  # cuDNN 9.28.0
        assert output["ldconfig_cudart"] == "libcudart.so.12"  # /etc/ld.so.conf.d/cog-cuda.conf
    finally:
        subprocess.run([str(cog_bin), "rmi", tag], capture_output=True)


def test_use_cuda_base_image_false_builds_without_the_cuda_layer(cog_bin, tmp_path):
    # Cog's python base for gpu: true: no CUDA libraries (torch and the like bring their own).
    project = make_project(tmp_path / "nocuda", '  cuda: "12.4"\n')
    (project / "run.py").write_text("from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n"
                                    "    def run(self) -> str:\n        return 'no cuda layer'\n")
    tag = f"cog-e2e-nocuda-{uuid.uuid4().hex[:8]}"
    try:
        wrong = subprocess.run([str(cog_bin), "build", "-t", tag, "--use-cuda-base-image", "maybe"], cwd=project,
                               env=cog_env(), capture_output=True, text=True, timeout=60)
        assert wrong.returncode != 0 and "--use-cuda-base-image" in wrong.stderr
        build = subprocess.run([str(cog_bin), "build", "--progress", "plain", "-t", tag,
                                "--use-cuda-base-image", "false"], cwd=project, env=cog_env(),
                               capture_output=True, text=True, timeout=900)
        assert build.returncode == 0, build.stdout + build.stderr
        assert "no CUDA layer" in build.stderr and "CUDA wheels:" not in build.stderr
        store = pathlib.Path(os.environ.get("XDG_DATA_HOME", pathlib.Path.home() / ".local/share")) / "cog/images"
        inspect = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{store}:{tag}:latest"],
                                            capture_output=True, text=True, check=True).stdout)
        env = dict(item.split("=", 1) for item in inspect["Env"])
        assert "CUDA_VERSION" not in env
        assert json.loads(inspect["Labels"]["run.cog.config"])["build"]["gpu"] is True
        run = subprocess.run([str(cog_bin), "run", tag], cwd=project, env=cog_env(), capture_output=True,
                             text=True, timeout=900)
        assert run.stdout == "no cuda layer\n", run.stderr
    finally:
        subprocess.run([str(cog_bin), "rmi", tag], capture_output=True)
