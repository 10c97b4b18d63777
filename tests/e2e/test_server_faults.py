"""Fault injection against the real cog-server: a worker killed or hung, webhook receivers that
are down, failing or hanging, an upload target that is down, a full disk under the input temp
dir, and SIGTERM with predictions in flight. Each ends in a defined state: nothing lost (every
prediction gets its terminal answer and `completed` webhook), nothing stuck (the server answers
and exits when asked). Loopback only, bounded in time."""
import base64
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from cog_server_harness import Recorder, Server


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


class Silent:
    """A webhook or upload receiver that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"

    def close(self):
        self.sock.close()


def async_predict(server, prediction_id, body):
    status, parsed, _, _ = server.request("PUT", f"/predictions/{prediction_id}", body,
                                          headers={"Prefer": "respond-async"})
    assert status == 202, parsed


def test_a_worker_that_ignores_cancel_is_killed_at_shutdown_and_its_prediction_reported(server_bin):
    server = Server(server_bin, "hostile", env={"COG_RUNNER_SHUTDOWN_GRACE_PERIOD": "1"})
    try:
        server.wait_for("READY")
        with Recorder() as hooks:
            async_predict(server, "stubborn", {"input": {"mode": "ignore_cancel", "seconds": 120},
                                               "webhook": hooks.url + "/hook",
                                               "webhook_events_filter": ["completed"]})
            time.sleep(0.5)
            started = time.monotonic()
            server.request("POST", "/shutdown", timeout=5)
            server.process.wait(timeout=30)  # grace 1 s + cancel 5 s + kill: not 120 s
            assert time.monotonic() - started < 20
            completed = hooks.wait_until(lambda requests: requests, timeout=5)[0]["json"]
            assert completed["id"] == "stubborn" and completed["status"] == "failed"
            assert "worker process" in completed["error"]
            assert "ignoring a cancel" in completed["logs"]  # the cancel reached run(), which swallowed it
        assert "killing it" in server.output
    finally:
        server.kill()


def test_sigterm_lets_predictions_in_flight_finish(server_bin):
    server = Server(server_bin, "hostile")
    try:
        server.wait_for("READY")
        answer = {}

        def sync_prediction():
            answer["result"] = server.predict({"input": {"mode": "sleep", "seconds": 2}})

        client = threading.Thread(target=sync_prediction)
        client.start()
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        client.join(timeout=30)
        status, body = answer["result"]
        assert (status, body["status"]) == (200, "succeeded")
        assert server.process.wait(timeout=30) == 0
    finally:
        server.kill()


def test_a_killed_worker_fails_its_prediction_with_a_webhook_and_the_server_says_defunct(server_bin):
    server = Server(server_bin, "hostile")
    try:
        server.wait_for("READY")
        with Recorder() as hooks:
            async_predict(server, "doomed", {"input": {"mode": "sleep", "seconds": 60},
                                             "webhook": hooks.url + "/hook", "webhook_events_filter": ["completed"]})
            time.sleep(0.5)
            os.kill(server.worker_pid(), signal.SIGKILL)
            completed = hooks.wait_until(lambda requests: requests, timeout=20)[0]["json"]
            assert completed["status"] == "failed" and "killed by signal 9" in completed["error"]
        assert server.health()["status"] == "DEFUNCT"
        status, body = server.predict({"input": {}})
        assert status == 503 and "DEFUNCT" in body["error"]
        assert server.shutdown() == 0
    finally:
        server.kill()


@pytest.mark.parametrize("receiver", ["down", "500", "silent"])
def test_a_broken_webhook_receiver_never_affects_predictions(server_bin, receiver):
    server = Server(server_bin, "hostile", env={"COG_THROTTLE_RESPONSE_INTERVAL": "0"})
    silent = Silent() if receiver == "silent" else None
    recorder = Recorder(statuses=[500] * 50) if receiver == "500" else None
    try:
        server.wait_for("READY")
        url = {"down": f"http://127.0.0.1:{closed_port()}/hook", "500": recorder and recorder.url + "/hook",
               "silent": silent and silent.url}[receiver]
        started = time.monotonic()
        status, body = server.predict({"input": {"count": 7}, "webhook": url})
        assert (status, body["output"]) == (200, "count=7 data=None")
        assert time.monotonic() - started < 5, "a sync answer must not wait on its webhooks"
        assert server.health()["status"] == "READY"
        status, body = server.predict({"input": {"count": 8}})
        assert status == 200
        if recorder:
            recorder.wait_until(lambda requests: len(requests) >= 2, timeout=10)  # the terminal one is retried
        assert server.shutdown(timeout=60) == 0
    finally:
        server.kill()
        if silent:
            silent.close()
        if recorder:
            recorder.close()


def test_an_upload_target_that_is_down_leaves_a_defined_answer(server_bin):
    server = Server(server_bin, "output_path", args=["--upload-url", f"http://127.0.0.1:{closed_port()}/upload"])
    try:
        server.wait_for("READY")
        status, body = server.predict({"input": {"text": "x"}})
        assert status == 200
        assert body["status"] in ("failed", "succeeded")
        if body["status"] == "failed":
            assert "upload" in body["error"].lower()
        assert server.health()["status"] == "READY"
        status, body = server.predict({"input": {"text": "y"}})
        assert status == 200 and body["status"] in ("failed", "succeeded")
    finally:
        server.kill()


def test_a_full_disk_under_the_input_temp_dir_is_an_input_error(server_bin):
    if os.geteuid() != 0:
        pytest.skip("MISSION: mounting a small tmpfs needs root")
    tmp = tempfile.mkdtemp(prefix="cog-full-disk-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", tmp], check=True)
    server = None
    try:
        server = Server(server_bin, "hostile", env={"TMPDIR": tmp})
        server.wait_for("READY")
        big = "data:application/octet-stream;base64," + base64.b64encode(b"\0" * (1 << 20)).decode()
        status, body = server.predict({"input": {"f": big}})
        assert status == 422, body
        assert body["status"] == "failed" and "No space left" in body["error"]
        small = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
        status, body = server.predict({"input": {"f": small}})
        assert (status, body.get("output")) == (200, "file of 5 bytes"), body
        assert server.health()["status"] == "READY"
        leftovers = [name for name in os.listdir(tmp) if name.startswith("cog-input-")]
        assert leftovers == [], leftovers
    finally:
        if server:
            server.kill()
        subprocess.run(["umount", tmp], check=False)
        os.rmdir(tmp)
