"""--gpus through CDI with real runc and fake hardware: a CDI spec in a temporary directory
(COG_CDI_SPEC_DIRS) describes a "GPU" whose device node is the host's /dev/zero, plus a mount, an
env variable and a hook, and `cog exec --gpus ...` must see them inside the container."""
import json
import os
import subprocess

import pytest

from cog_cli import make_project, run_cog

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root")

RUN_PY = '''from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return "ok"
'''

PROBE = ("test -c /dev/nvidia0 && echo node=char; head -c 3 /dev/nvidia0 | od -An -tx1; "
         "cat /usr/local/nvidia/lib64/x; echo env=$NVIDIA_TEST; echo other=${OTHER_GPU:-none}")


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "gpu-project", RUN_PY)


@pytest.fixture
def cdi_dir(tmp_path):
    """A fake nvidia.com/gpu spec: device "0" (/dev/zero as /dev/nvidia0) and device "1" (only an
    env variable), shared edits with a library mount, NVIDIA_TEST=1 and a createRuntime hook."""
    spec_dir = tmp_path / "cdi"
    spec_dir.mkdir()
    library = tmp_path / "libfake.so"
    library.write_text("fake driver library\n")
    marker = tmp_path / "hook-ran"
    spec = {
        "cdiVersion": "0.5.0",
        "kind": "nvidia.com/gpu",
        "devices": [
            {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0", "hostPath": "/dev/zero"}]}},
            {"name": "1", "containerEdits": {"env": ["OTHER_GPU=1"]}},
        ],
        "containerEdits": {
            "env": ["NVIDIA_TEST=1"],
            "mounts": [{"hostPath": str(library), "containerPath": "/usr/local/nvidia/lib64/x",
                        "options": ["ro", "nosuid", "nodev", "bind"]}],
            "hooks": [{"hookName": "createRuntime", "path": "/bin/sh",
                       "args": ["sh", "-c", f"echo ran > {marker}"]}],
        },
    }
    (spec_dir / "fake-gpu.json").write_text(json.dumps(spec))
    return spec_dir, marker


def cog(cog_bin, *args, cwd, cdi):
    """cog reading CDI specs from `cdi` only, with no stdin; the caller checks the exit code."""
    return run_cog(cog_bin, *args, cwd=cwd, check=False, env={"COG_CDI_SPEC_DIRS": str(cdi)},
                   stdin=subprocess.DEVNULL)


def test_cdi_device_mount_env_and_hook_reach_the_container(cog_bin, project, cdi_dir):
    spec_dir, marker = cdi_dir
    result = cog(cog_bin, "exec", "--progress", "quiet", "--gpus", "device=0", "sh", "-c", PROBE,
                 cwd=project, cdi=spec_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert "node=char" in lines
    assert "00 00 00" in result.stdout  # read through the node: it is /dev/zero
    assert "fake driver library" in lines
    assert "env=1" in lines
    assert "other=none" in lines  # device 1 was not asked for
    assert marker.read_text() == "ran\n"

    # "all" without an "all" device picks every device; a qualified CDI name works too.
    result = cog(cog_bin, "exec", "--progress", "quiet", "--gpus", "all", "sh", "-c", PROBE, cwd=project, cdi=spec_dir)
    assert result.returncode == 0, result.stderr
    assert "node=char" in result.stdout and "other=1" in result.stdout
    result = cog(cog_bin, "exec", "--progress", "quiet", "--gpus", "nvidia.com/gpu=1", "sh", "-c", PROBE,
                 cwd=project, cdi=spec_dir)
    assert result.returncode == 0, result.stderr
    assert "node=char" not in result.stdout and "other=1" in result.stdout


def test_unknown_cdi_devices_are_clear_errors(cog_bin, project, cdi_dir):
    spec_dir, _ = cdi_dir
    result = cog(cog_bin, "exec", "--progress", "quiet", "--gpus", "device=5", "true", cwd=project, cdi=spec_dir)
    assert result.returncode == 1
    assert "known: nvidia.com/gpu=0, nvidia.com/gpu=1" in result.stderr
    result = cog(cog_bin, "exec", "--progress", "quiet", "--gpus", "3", "true", cwd=project, cdi=spec_dir)
    assert result.returncode == 1
    assert "the CDI specs define 2 GPU(s)" in result.stderr
    (spec_dir / "broken.yaml").write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- containerEdits: {}\n")
    result = cog(cog_bin, "exec", "--progress", "quiet", "--gpus", "all", "true", cwd=project, cdi=spec_dir)
    assert result.returncode == 1
    assert "broken.yaml: .devices[0].name: is missing" in result.stderr
