"""`python -m cog.server.http` (what Cog images run) hands over to cog-server with its flags."""
import json
import os
import subprocess
import sys
import time
import urllib.request

from cog_server_harness import FIXTURES, SOURCE_DIR, free_port


def launcher_env(server_bin, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
    env.update({"PYTHONPATH": str(SOURCE_DIR / "runtime" / "python"), "COG_SERVER_BIN": str(server_bin)})
    env.update(extra)
    return env


def test_launcher_serves_a_runner(server_bin):
    port = free_port()
    env = launcher_env(server_bin, PORT=str(port), COG_PREDICT_TYPE_STUB="run.py:Runner")
    process = subprocess.Popen([sys.executable, "-m", "cog.server.http", "--host", "127.0.0.1",
                                "--await-explicit-shutdown", "true", "--threads", "4"],
                               cwd=FIXTURES / "hello", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status != "READY":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health-check", timeout=2) as response:
                    status = json.loads(response.read())["status"]
            except OSError:
                time.sleep(0.1)
        assert status == "READY"
        request = urllib.request.Request(f"http://127.0.0.1:{port}/shutdown", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {}
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_launcher_requires_the_runner_variable(server_bin):
    result = subprocess.run([sys.executable, "-m", "cog.server.http"], env=launcher_env(server_bin),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "COG_PREDICT_TYPE_STUB" in result.stderr


def test_launcher_version(server_bin):
    result = subprocess.run([sys.executable, "-m", "cog.server.http", "--version"], env=launcher_env(server_bin),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("cog-server ")
