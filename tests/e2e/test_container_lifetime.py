"""A container lives no longer than the `cog` that started it: a SIGKILL of cog (or of its whole
process group, as a CI timeout sends) still ends and deletes its runc container, bundle and
overlay, and what a kill of the watchdog too leaves behind is reaped by the next cog that runs a
container. Needs root (namespaces, overlayfs) and runc."""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from cog_cli import run_cog as cog
from cog_server_harness import FIXTURES, free_port

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="running images needs root"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc"),
]

STATE_DIR = pathlib.Path("/run/cog/containers")  # where cog keeps its records when run as root
GONE_WITHIN_S = 20


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = tmp_path_factory.mktemp("lifetime") / "lifetime-model"
    shutil.copytree(FIXTURES / "hello", project)
    return project


def runc_containers():
    listed = subprocess.run(["runc", "list", "--format", "json"], capture_output=True, text=True, check=True)
    return json.loads(listed.stdout) or []


def container_serving(port):
    """runc's entry for the cog container whose server listens on `port` (its bundle sets PORT)."""
    for container in runc_containers():
        if not re.fullmatch(r"cog-[0-9a-f]{12}", container["id"]):
            continue
        try:
            config = json.loads((pathlib.Path(container["bundle"]) / "config.json").read_text())
        except (OSError, ValueError):
            continue
        if f"PORT={port}" in config["process"]["env"]:
            return container
    return None


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_serving(cog_bin, project, log_path):
    """`cog serve` in a session of its own (so a group kill spares pytest), once it is READY: the
    process, its port and runc's entry for its container."""
    port = free_port()
    log = open(log_path, "w")
    process = subprocess.Popen([str(cog_bin), "serve", "-p", str(port), "--progress", "quiet"], cwd=project,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 600  # the first call builds the development image
    status = None
    while time.monotonic() < deadline and status != "READY":
        assert process.poll() is None, f"cog serve exited ({process.returncode}):\n{log_path.read_text()}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health-check", timeout=2) as response:
                status = json.loads(response.read())["status"]
        except OSError:
            time.sleep(0.2)
    assert status == "READY", log_path.read_text()
    container = container_serving(port)
    assert container, f"no runc container serves port {port}: {runc_containers()}"
    return process, port, container


def descendants(pid):
    """The pids of `pid`'s descendants, as a process-tree killer finds them (by parent pid)."""
    parents = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(text[text.rindex(")") + 2:].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def watchdogs_of(pid):
    """The pids of `pid`'s watchdogs: forked from it (so with its command line) but re-parented away,
    and named cog-watchdog."""
    cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    found = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() == "cog-watchdog" and (proc / "cmdline").read_bytes() == cmdline:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def leftovers(container, port):
    """What of the container is still there."""
    ids = {entry["id"] for entry in runc_containers()}
    bundle = pathlib.Path(container["bundle"])
    overlay = pathlib.Path(container["rootfs"]).parent
    left = []
    if container["id"] in ids:
        left.append(f"runc container {container['id']}")
    if answers(port):
        left.append(f"a server on port {port}")
    for path in (bundle, overlay, STATE_DIR / f"{container['id']}.json"):
        if path.exists():
            left.append(str(path))
    return left


def wait_until_gone(container, port, within_s=GONE_WITHIN_S):
    deadline = time.monotonic() + within_s
    while leftovers(container, port) and time.monotonic() < deadline:
        time.sleep(0.2)
    return leftovers(container, port)


def force_remove(container, process):
    """So a failing test leaves nothing behind for the next one."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    subprocess.run(["runc", "delete", "--force", container["id"]], capture_output=True)
    shutil.rmtree(container["bundle"], ignore_errors=True)
    shutil.rmtree(pathlib.Path(container["rootfs"]).parent, ignore_errors=True)
    (STATE_DIR / f"{container['id']}.json").unlink(missing_ok=True)


@pytest.mark.parametrize("kill", ["cog", "process group", "process tree"])
def test_a_killed_cog_serve_takes_its_container_with_it(cog_bin, project, tmp_path, kill):
    process, port, container = start_serving(cog_bin, project, tmp_path / "serve.log")
    try:
        if kill == "cog":
            os.kill(process.pid, signal.SIGKILL)
        elif kill == "process group":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            for pid in [process.pid, *descendants(process.pid)]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # a child that died with its parent before its turn (PDEATHSIG)
        process.wait()
        assert wait_until_gone(container, port) == []
    finally:
        force_remove(container, process)


@pytest.mark.parametrize("left", ["running with its record", "stopped without a record"])
def test_the_next_cog_reaps_what_a_killed_cog_and_watchdog_left(cog_bin, project, tmp_path, left):
    process, port, container = start_serving(cog_bin, project, tmp_path / "serve.log")
    try:
        # The watchdog first, so nothing ends the container when cog and its group die.
        watchdogs = watchdogs_of(process.pid)
        for pid in watchdogs:
            os.kill(pid, signal.SIGKILL)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        time.sleep(1)
        assert container_serving(port), "the container should have been left behind"
        if left == "stopped without a record":
            # What older cogs left: a stopped container with its bundle and nothing saying whose.
            subprocess.run(["runc", "kill", container["id"], "KILL"], check=True)
            deadline = time.monotonic() + GONE_WITHIN_S
            while container_serving(port)["status"] != "stopped" and time.monotonic() < deadline:
                time.sleep(0.2)
            (STATE_DIR / f"{container['id']}.json").unlink(missing_ok=True)
        cog(cog_bin, "exec", "--progress", "quiet", "true", cwd=project, timeout=600)
        assert leftovers(container, port) == []
    finally:
        force_remove(container, process)


def test_a_clean_exit_still_removes_everything_once(cog_bin, project, tmp_path):
    process, port, container = start_serving(cog_bin, project, tmp_path / "serve.log")
    try:
        watchdogs = watchdogs_of(process.pid)
        assert len(watchdogs) == 1, "one watchdog per container"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, (tmp_path / "serve.log").read_text()
        assert leftovers(container, port) == []
        for pid in watchdogs:
            deadline = time.monotonic() + 5  # init reaps it
            while pathlib.Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not pathlib.Path(f"/proc/{pid}").exists(), "the watchdog must have left"
    finally:
        force_remove(container, process)
