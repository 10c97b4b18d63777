"""A private Docker daemon for end-to-end tests that talk to Docker (`cog run --runtime docker`,
`cog build --load`). Docker is our interop peer, never a requirement: without `dockerd` the tests
that use the fixture are skipped with the reason.

The daemon runs with its own --data-root, --exec-root, --pidfile and unix socket in a temp dir,
no bridge and no iptables rules (tests use --network host), so it touches nothing of the host's
and several can run side by side. It lives in its own mount namespace with its data root on a
tmpfs there: its image store, overlays and container mounts vanish with it, however it ends,
and stopping it costs no file-by-file deletion. It is started once per test session.

    from docker_helpers import docker_daemon  # noqa: F401  (the fixture)

    def test_something(docker_daemon):
        docker_daemon.docker("images")              # runs the docker client against it
        env = docker_daemon.env()                   # os.environ + DOCKER_HOST, for `cog`
"""
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

# Debian's docker.io client first: /usr/local/bin/docker on some machines is an older binary.
DOCKER_CLIENTS = ["/usr/bin/docker", "/usr/local/bin/docker"]
START_TIMEOUT_S = 60
# A unix socket's path is at most 107 bytes, and dockerd's containerd puts its sockets deepest in the
# temp dir (exec/containerd/containerd.sock.ttrpc). scripts/test.sh's TMPDIR is under the checkout:
# where that is too deep, the daemon's dir goes to /tmp instead (it takes no disk: data and exec are
# tmpfs mounts).
_DEEPEST_SOCKET = "cog-dockerd-XXXXXXXX/exec/containerd/containerd.sock.ttrpc"


def _daemon_parent():
    return None if len(os.path.join(tempfile.gettempdir(), _DEEPEST_SOCKET)) <= 107 else "/tmp"
TMPFS_SIZE = os.environ.get("COG_TEST_DOCKERD_TMPFS", "16g")


def find_dockerd():
    return shutil.which("dockerd") or next((p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd")
                                            if os.access(p, os.X_OK)), None)


def find_docker_client():
    return next((p for p in DOCKER_CLIENTS if os.access(p, os.X_OK)), None) or shutil.which("docker")


class DockerDaemon:
    """A running dockerd: `host` is its DOCKER_HOST (unix://...), `client` the docker binary."""

    def __init__(self, dockerd: str, client: str):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="cog-dockerd-", dir=_daemon_parent()))
        self.socket = self.dir / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.client = client
        self.log_path = self.dir / "dockerd.log"
        self._log = open(self.log_path, "wb")
        data, run = self.dir / "data", self.dir / "exec"
        data.mkdir()
        run.mkdir()
        daemon = [dockerd, "--data-root", str(data), "--exec-root", str(run), "--pidfile", str(self.dir / "dockerd.pid"),
                  "-H", self.host, "--bridge", "none", "--iptables=false", "--ip6tables=false",
                  "--ip-forward=false", "--ip-masq=false"]
        # tmpfs pages are only used as images are loaded; the limit just bounds a runaway test.
        script = (f"mount -t tmpfs -o size={TMPFS_SIZE},mode=0711 cog-dockerd-data {data} && "
                  f"mount -t tmpfs -o size=64m,mode=0711 cog-dockerd-exec {run} && exec \"$@\"")
        self.process = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *daemon],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def env(self, base=None) -> dict:
        """The environment for a process that should reach this daemon (e.g. `cog`)."""
        env = dict(os.environ if base is None else base)
        env["DOCKER_HOST"] = self.host
        return env

    def docker(self, *args, check=True, timeout=300, **kwargs):
        """Runs the docker client against this daemon; raises with its output when `check` fails."""
        result = subprocess.run([self.client, "-H", self.host, *map(str, args)], capture_output=True, text=True,
                                timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(map(str, args))} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log()
                self.stop()
                raise AssertionError(f"dockerd exited with {self.process.returncode} while starting:\n{log[-4000:]}")
            if self.socket.exists() and self.docker("version", check=False, timeout=10).returncode == 0:
                return
            time.sleep(0.2)
        log = self.log()
        self.stop()
        raise AssertionError(f"dockerd did not answer on {self.host} within {START_TIMEOUT_S}s:\n{log[-4000:]}")

    def stop(self):
        if self.process.poll() is None:
            # Containers first, so their mounts and shims go with them.
            if self.socket.exists():
                ids = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False, timeout=60)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        # The data root was a tmpfs in the daemon's mount namespace: gone with it.
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_daemon():
    """A private dockerd for the session; skips the test when Docker is not installed."""
    dockerd, client = find_dockerd(), find_docker_client()
    if not dockerd:
        pytest.skip("dockerd is not installed (Debian: apt-get install docker.io; scripts/install-deps.sh does)")
    if not client:
        pytest.skip("the docker client is not installed (Debian: apt-get install docker.io)")
    if os.geteuid() != 0:
        pytest.skip("starting a private dockerd needs root")
    daemon = DockerDaemon(dockerd, client)
    try:
        yield daemon
    finally:
        daemon.stop()
