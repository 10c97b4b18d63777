"""`--runtime docker` (and podman where installed): our image loaded into a real, private dockerd
(docker_helpers.py) and run by it with the semantics of our own containers."""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from cog_cli import make_project, run_cog, tag_fixture
from docker_helpers import docker_daemon  # noqa: F401  (fixture)
from registry_helpers import free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building images and running dockerd need root")

RUN_PY = '''from cog import BaseRunner, Input


class Runner(BaseRunner):
    def run(self, name: str = Input(default="world")) -> str:
        print("greeting", name)
        return f"hello {name}"
'''


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "docker-project", RUN_PY)


tag = tag_fixture("cog-e2e-docker")


def cog(cog_bin, *args, cwd, env):
    """cog with exactly `env` (plus SOURCE_DATE_EPOCH=0) and no stdin; the caller checks the exit code."""
    return run_cog(cog_bin, *args, cwd=cwd, check=False, base_env=env, env={"SOURCE_DATE_EPOCH": "0"},
                   stdin=subprocess.DEVNULL)


def test_run_image_with_docker(cog_bin, project, tag, docker_daemon):
    env = docker_daemon.env()
    built = cog(cog_bin, "build", "-t", tag, cwd=project, env=env)
    assert built.returncode == 0, built.stderr

    result = cog(cog_bin, "run", tag, "--runtime", "docker", "-i", "name=docker", cwd=project, env=env)
    assert result.returncode == 0, result.stderr + docker_daemon.log()[-3000:]
    assert result.stdout == "hello docker\n"
    # The image is in docker under our name, with our config digest as its ID; no container is left.
    image_id = docker_daemon.docker("image", "inspect", "--format", "{{.Id}}", f"{tag}:latest").stdout.strip()
    assert image_id.startswith("sha256:")
    assert docker_daemon.docker("ps", "-aq").stdout.strip() == ""

    # A second run finds the image loaded and does not load it again (same image, same ID).
    again = cog(cog_bin, "run", tag, "--runtime", "docker", "-i", "name=again", cwd=project, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "hello again\n"
    assert docker_daemon.docker("image", "inspect", "--format", "{{.Id}}", f"{tag}:latest").stdout.strip() == image_id


def test_exec_with_docker_mounts_the_project_and_keeps_the_exit_code(cog_bin, project, docker_daemon):
    env = docker_daemon.env()
    (project / "data.txt").write_text("from the host\n")
    result = cog(cog_bin, "exec", "--progress", "quiet", "--runtime", "docker", "-e", "GREETING=hi",
                 "sh", "-c", "cat data.txt; echo $GREETING; pwd; echo made > made.txt", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from the host\nhi\n/src\n"
    assert (project / "made.txt").read_text() == "made\n"  # /src is the project, read-write
    failed = cog(cog_bin, "exec", "--progress", "quiet", "--runtime", "docker", "sh", "-c", "exit 3", cwd=project,
                 env=env)
    assert failed.returncode == 3
    assert docker_daemon.docker("ps", "-aq").stdout.strip() == ""


def test_serve_with_docker_answers_and_ctrl_c_removes_the_container(cog_bin, project, docker_daemon):
    port = free_port()
    server = subprocess.Popen([str(cog_bin), "serve", "--progress", "quiet", "--runtime", "docker", "-p", str(port)],
                              cwd=project, env=dict(docker_daemon.env(), SOURCE_DATE_EPOCH="0"),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, status = time.monotonic() + 180, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health-check", timeout=1) as reply:
                    status = json.load(reply)["status"]
                if status == "READY":
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert status == "READY", server.stderr.read() if server.poll() is not None else "not ready in time"
        request = urllib.request.Request(f"http://127.0.0.1:{port}/predictions", method="POST",
                                         data=json.dumps({"input": {"name": "serve"}}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert json.load(reply)["output"] == "hello serve"
        assert docker_daemon.docker("ps", "-q").stdout.strip() != ""
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0, server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert docker_daemon.docker("ps", "-aq").stdout.strip() == ""


def test_missing_engine_is_a_clear_error(cog_bin, project, tmp_path):
    if shutil.which("podman") or os.path.exists("/usr/bin/podman"):
        pytest.skip("podman is installed here")
    result = cog(cog_bin, "exec", "--progress", "quiet", "--runtime", "podman", "true", cwd=project,
                 env=dict(os.environ))
    assert result.returncode == 1
    assert "podman is not installed" in result.stderr and "apt-get install podman" in result.stderr


@pytest.mark.skipif(not (shutil.which("podman") or os.path.exists("/usr/bin/podman")), reason="podman is not installed")
def test_run_image_with_podman(cog_bin, project, tag):
    built = cog(cog_bin, "build", "-t", tag, cwd=project, env=dict(os.environ))
    assert built.returncode == 0, built.stderr
    try:
        run_with_podman(cog_bin, project, tag)
    finally:
        subprocess.run(["podman", "rmi", "--force", f"{tag}:latest"], capture_output=True)


def run_with_podman(cog_bin, project, tag):
    result = cog(cog_bin, "run", tag, "--runtime", "podman", "-i", "name=podman", cwd=project, env=dict(os.environ))
    if result.returncode != 0:
        # Podman itself may be unable to run anything here (crun refuses hybrid cgroups; rootful
        # podman raises rlimits that a root without CAP_SYS_RESOURCE may not): then say so.
        probe = subprocess.run(["podman", "run", "--rm", "--network", "host", "--entrypoint", "true", f"{tag}:latest"],
                               capture_output=True, text=True, timeout=120)
        if probe.returncode != 0:
            pytest.skip(f"podman cannot run containers on this host: {probe.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello podman\n"
