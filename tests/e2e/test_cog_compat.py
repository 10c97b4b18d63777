"""What Cog does that issue #13 found us not doing, each driven through the built `cog` as a user
would: containers reach the host as host.docker.internal (webhooks, --upload-url), `cog exec` in a
project without a model, `cog run REF` pulling an image only a registry has, and one-offs.
Needs root (runc, overlayfs) and Debian's mirror for the first base."""
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from cog_cli import make_project, run_cog as cog, tag_fixture
from docker_helpers import docker_daemon  # noqa: F401  (fixture)
from registry_helpers import Registry, free_port, running

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running images needs root")

# Images that are copied whole (to a registry and private stores, or into docker) leave out cog-base's
# package layer (test_cog_base.py): each copy would be ~2 GB, and it is not what those tests are about.
NO_COG_BASE = "--use-cog-base-image=false"

FILE_RUNNER_PY = '''import time

from cog import BaseRunner, CancelationException, Input, Path


class Runner(BaseRunner):
    def run(self, text: str = Input(default="hello"), sleep: float = Input(default=0.0)) -> Path:
        try:
            deadline = time.time() + sleep
            while time.time() < deadline:
                time.sleep(0.05)
        except CancelationException:
            # Cleaning up takes a moment; a cancel arriving meanwhile is the same cancel.
            done = time.time() + 1.5
            while time.time() < done:
                try:
                    time.sleep(0.05)
                except CancelationException:
                    pass
            raise
        out = Path("/tmp/out.txt")
        out.write_text(text)
        return out
'''

HELLO_RUN_PY = '''from cog import BaseRunner, Input


class Runner(BaseRunner):
    def run(self, name: str = Input(default="world")) -> str:
        return f"hello {name}"
'''


class Receiver:
    """An HTTP server on the host's loopback recording each POST (webhooks) and PUT (uploads) as
    (method, path, body); PUT answers 201 without Location, so the upload URL is the request URL."""

    def __init__(self):
        self.requests = []
        self.port = free_port()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self, status):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.command, self.path, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                self._record(200)

            def do_PUT(self):
                self._record(201)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def webhooks(self, path):
        return [json.loads(body) for method, p, body in self.requests if method == "POST" and p == path]

    def wait_for(self, condition, timeout=30):
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.1)
        return condition()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def post(url, body=None, timeout=60):
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read() or b"{}")


class Served:
    """`cog serve` of `project` on a free port, ready (health-check READY) when constructed."""

    def __init__(self, cog_bin, project, *flags):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([str(cog_bin), "serve", "-p", str(self.port), "--progress", "quiet", *flags],
                                        cwd=project, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("cog serve exited:\n" + self.process.stderr.read())
            try:
                with urllib.request.urlopen(self.url + "/health-check", timeout=2) as response:
                    if json.loads(response.read())["status"] == "READY":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError("cog serve never became ready")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def file_project(tmp_path):
    return make_project(tmp_path / "files", FILE_RUNNER_PY)


# --- 1. the host as host.docker.internal -------------------------------------------------------------

def test_serve_delivers_webhooks_to_host_docker_internal(cog_bin, file_project, receiver):
    served = Served(cog_bin, file_project)
    try:
        hook = f"http://host.docker.internal:{receiver.port}/hook"
        status, _ = post(f"{served.url}/predictions", {"input": {"text": "to the host"}, "webhook": hook})
        assert status == 200
        assert receiver.wait_for(lambda: any(b["status"] == "succeeded" for b in receiver.webhooks("/hook"))), \
            receiver.requests
    finally:
        served.stop()


def test_serve_uploads_to_host_docker_internal(cog_bin, file_project, receiver):
    upload = f"http://host.docker.internal:{receiver.port}/upload/"
    served = Served(cog_bin, file_project, "--upload-url", upload)
    try:
        status, body = post(f"{served.url}/predictions", {"input": {"text": "uploaded"}})
        assert status == 200 and body["status"] == "succeeded", body
        assert body["output"] == upload + "out.txt"
        assert ("PUT", "/upload/out.txt", b"uploaded") in receiver.requests
    finally:
        served.stop()


def test_container_hosts_and_resolv_conf_are_dockers(cog_bin, tmp_path):
    project = make_project(tmp_path / "env", "", cog_yaml='build:\n  python_version: "3.11"\n')
    result = cog(cog_bin, "exec", "--progress", "quiet", "python3", "-c",
                 "import socket; print(socket.gethostbyname('host.docker.internal')); "
                 "print(socket.gethostbyname(socket.gethostname())); print(open('/etc/resolv.conf').read())",
                 cwd=project)
    lines = result.stdout.splitlines()
    assert lines[0] == "127.0.0.1" and lines[1] == "127.0.0.1", result.stdout
    # Host networking: the host's resolv.conf, as docker copies it.
    assert "\n".join(lines[2:]).strip() == open("/etc/resolv.conf").read().strip()


def test_docker_runtime_names_the_host_too(cog_bin, tmp_path, docker_daemon):
    project = make_project(tmp_path / "env", "", cog_yaml='build:\n  python_version: "3.11"\n')
    result = cog(cog_bin, "exec", NO_COG_BASE, "--progress", "quiet", "--runtime", "docker", "python3", "-c",
                 "import socket; print(socket.gethostbyname('host.docker.internal'))",
                 cwd=project, base_env=docker_daemon.env(), stdin=subprocess.DEVNULL)
    assert result.stdout == "127.0.0.1\n", result.stderr


# --- 5. cog exec in a project without a model -------------------------------------------------------

def test_exec_without_a_model_passes_stdin_from_a_subdirectory(cog_bin, tmp_path):
    project = make_project(tmp_path / "env", "", cog_yaml='build:\n  python_version: "3.11"\n')
    (project / "sub").mkdir()
    echoed = cog(cog_bin, "exec", "--progress", "quiet", "cat", cwd=project / "sub", input="piped in\n")
    assert echoed.stdout == "piped in\n"
    # Input the command never reads is no error.
    ignored = cog(cog_bin, "exec", "--progress", "quiet", "true", cwd=project, input="x" * 1_000_000)
    assert ignored.returncode == 0


# --- 6. cog run of an image only a registry has ------------------------------------------------------

def test_run_pulls_an_image_only_the_registry_has(cog_bin, tmp_path):
    project = make_project(tmp_path / "hello", HELLO_RUN_PY)
    docker_config = tmp_path / "docker"
    with running(Registry(tmp_path / "reg", auth=("htpasswd", {"alice": "s3cret"}))) as registry:
        ref = f"{registry.host}/me/model:v1"
        builder_env = {"COG_IMAGE_STORE": str(tmp_path / "store-a"), "DOCKER_CONFIG": str(docker_config)}
        cog(cog_bin, "login", registry.host, "-u", "alice", "--password-stdin", env=builder_env, input="s3cret\n")
        cog(cog_bin, "build", NO_COG_BASE, "-t", ref, "--progress", "quiet", cwd=project, env=builder_env)
        cog(cog_bin, "push", ref, NO_COG_BASE, cwd=project, env=builder_env)

        # Another store, which has never seen the image: cog run pulls it, with the stored credentials.
        user_env = {"COG_IMAGE_STORE": str(tmp_path / "store-b"), "DOCKER_CONFIG": str(docker_config)}
        result = cog(cog_bin, "run", ref, "-i", "name=pulled", cwd=tmp_path, env=user_env)
        assert result.stdout == "hello pulled\n", result.stderr
        assert f"Pulling {ref}" in result.stderr and "Digest: sha256:" in result.stderr
        # Now it is local: no second pull.
        again = cog(cog_bin, "predict", ref, "-i", "name=again", cwd=tmp_path, env=user_env)
        assert again.stdout == "hello again\n" and "Pulling" not in again.stderr


def test_pull_is_listed_in_help(cog_bin):
    assert any(line.split()[:1] == ["pull"] for line in cog(cog_bin, "--help").stdout.splitlines())


# --- 7. one-offs --------------------------------------------------------------------------------------

tag = tag_fixture("cog-e2e-compat")


def test_global_flags_after_the_subcommand(cog_bin, tmp_path, tag):
    project = make_project(tmp_path / "hello", HELLO_RUN_PY)
    result = cog(cog_bin, "build", "--debug", "--no-color", "-t", tag, "--progress", "quiet", cwd=project)
    assert f"Image built as {tag}" in result.stderr
    assert "--debug" not in result.stderr


def test_repeated_cancel_answers_200_and_the_webhook_says_canceled(cog_bin, file_project, receiver):
    # Cancels while the prediction is still in flight (its run() cleans up for a moment) are all
    # 200; once it has ended, Cog answers 404 (test_coglet_differential checks that against coglet).
    served = Served(cog_bin, file_project)
    try:
        hook = f"http://127.0.0.1:{receiver.port}/cancel-hook"
        request = urllib.request.Request(f"{served.url}/predictions/p-cancel", method="PUT",
                                         data=json.dumps({"input": {"sleep": 60}, "webhook": hook}).encode(),
                                         headers={"Content-Type": "application/json", "Prefer": "respond-async"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 202
        assert receiver.wait_for(lambda: any(b["status"] == "processing" for b in receiver.webhooks("/cancel-hook")))
        for _ in range(3):
            status, _ = post(f"{served.url}/predictions/p-cancel/cancel")
            assert status == 200
        assert receiver.wait_for(lambda: any(b["status"] == "canceled" for b in receiver.webhooks("/cancel-hook"))), \
            receiver.webhooks("/cancel-hook")
    finally:
        served.stop()


SCORED_RUN_PY = '''from cog import BaseModel, BaseRunner


class Scored(BaseModel):
    label: str
    score: float


class Runner(BaseRunner):
    def run(self, score: float) -> Scored:
        return Scored(label="cat", score=score)
'''


def test_float_inputs_keep_their_decimal_value(cog_bin, tmp_path):
    # Reported with a pydantic v2 output model; the value was lost before the model saw it (the
    # CLI's float32 parsing of -i), so any structured output shows it.
    project = make_project(tmp_path / "scored", SCORED_RUN_PY)
    result = cog(cog_bin, "run", "--local", "-i", "score=0.95", cwd=project)
    assert json.loads(result.stdout) == {"label": "cat", "score": 0.95}, result.stdout


def test_default_outside_ge_is_an_invalid_default_naming_the_minimum(cog_bin, tmp_path, tag):
    project = make_project(tmp_path / "bounds", HELLO_RUN_PY.replace(
        'name: str = Input(default="world")', 'name: str = Input(default="world"), steps: int = Input(default=1, ge=2)'))
    result = cog(cog_bin, "build", "-t", tag, cwd=project, check=False)
    assert result.returncode == 1
    message = result.stderr.lower()
    assert "invalid" in message and "minimum" in message and "steps" in message, result.stderr


def test_two_secret_steps_and_pip_freeze(cog_bin, tmp_path, tag):
    # Steps that only read their secret change nothing, so both make the same (empty) layer: the
    # overlay of a later step must not stack that layer's directory twice (ELOOP, "Too many levels
    # of symbolic links", at pip freeze).
    project = make_project(tmp_path / "secrets", HELLO_RUN_PY, cog_yaml=(
        'build:\n  python_version: "3.11"\n  run:\n'
        '    - command: test "$(cat /run/secrets/a)" = one\n'
        '      mounts:\n        - type: secret\n          id: a\n          target: /run/secrets/a\n'
        '    - command: test "$(cat /run/secrets/b)" = two\n'
        '      mounts:\n        - type: secret\n          id: b\n          target: /run/secrets/b\n'
        '    - command: echo after > /after.txt\n'
        'run: "run.py:Runner"\n'))
    (tmp_path / "a.txt").write_text("one")
    result = cog(cog_bin, "build", "-t", tag, "--progress", "plain", "--secret", f"id=a,src={tmp_path / 'a.txt'}",
                 "--secret", "id=b,env=COG_TEST_SECRET_B", cwd=project, env={"COG_TEST_SECRET_B": "two"},
                 check=False)
    assert result.returncode == 0, result.stderr
    assert "Too many levels of symbolic links" not in result.stderr
    assert "pip freeze failed" not in result.stderr
    run = cog(cog_bin, "run", tag, "-i", "name=secrets", cwd=tmp_path)
    assert run.stdout == "hello secrets\n"
