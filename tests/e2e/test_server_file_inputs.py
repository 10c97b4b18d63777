"""File inputs a hostile client sends to the real cog-server: local paths are refused with 422,
endless or silent downloads are bounded, and a cancel or a client that hangs up during a download
frees the slot at once. Everything is on loopback; TMPDIR is private so leftovers can be listed."""
import json
import select
import socket
import threading
import time

import pytest

from cog_server_harness import Recorder

STREAM_SECONDS = 20  # how long "forever" lasts, so that a broken server still ends the test


class Origin:
    """A file server: /ok/<text> answers <text>; /stream sends 64 KiB every 10 ms without a
    Content-Length; /silent never answers (and notes when its client goes away)."""

    def __init__(self):
        self.stop = threading.Event()
        self.silent_requests = threading.Semaphore(0)
        self.silent_closed = threading.Semaphore(0)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection):
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                data = connection.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ", 2)[1].decode()
            deadline = time.monotonic() + STREAM_SECONDS
            if path == "/silent":
                self.silent_requests.release()
                while time.monotonic() < deadline and not self.stop.is_set():
                    if select.select([connection], [], [], 0.05)[0] and not connection.recv(1):
                        self.silent_closed.release()
                        return
                return
            if path.startswith("/ok/"):
                body = path[len("/ok/"):].encode()
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                return
            connection.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
            try:
                while time.monotonic() < deadline and not self.stop.is_set():
                    connection.sendall(b"x" * 65536)
                    time.sleep(0.01)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.listener.close()


@pytest.fixture
def origin():
    files = Origin()
    yield files
    files.close()


@pytest.fixture
def serve(serve, tmp_path):
    """conftest's `serve`, each server with a private TMPDIR (server.temp) and a record of the
    paths run() saw (server.record)."""
    count = 0

    def start(fixture, **env):
        nonlocal count
        temp = tmp_path / f"tmp-{count}"
        temp.mkdir()
        record = tmp_path / f"seen-{count}.txt"
        count += 1
        environment = {"TMPDIR": str(temp), "COG_MAX_INPUT_FILE_SIZE": str(1 << 20), "FILE_INPUT_SEEN": str(record)}
        environment.update(env)
        server = serve(fixture, env=environment)
        server.temp, server.record = temp, record
        return server

    return start


def seen_by_run(server):
    """The paths run() was called with, in order."""
    return server.record.read_text().splitlines() if server.record.exists() else []


def leftovers(server):
    return sorted(p.name for p in server.temp.iterdir() if p.name.startswith("cog-input-"))


def wait_ready(server, timeout):
    started = time.monotonic()
    server.wait_for("READY", timeout=timeout)
    return time.monotonic() - started


def serves_a_normal_prediction(server, origin):
    before = len(seen_by_run(server))
    status, body = server.predict({"input": {"f": f"{origin.url}/ok/fine"}})
    assert (status, body["status"], body["output"]) == (200, "succeeded", "fine"), body
    assert len(seen_by_run(server)) == before + 1


@pytest.mark.parametrize("value", ["/etc/shadow", "file:///etc/passwd", "../sleep/run.py"])
def test_local_path_is_refused_and_never_reaches_run(serve, origin, value):
    server = serve("file_input")
    status, body = server.predict({"input": {"f": value}})
    assert status == 422, body
    [detail] = body["detail"]
    assert detail["loc"] == ["body", "input", "f"] and detail["type"] == "value_error"
    assert "http://, https:// or data: URLs" in detail["msg"]
    assert seen_by_run(server) == []
    assert server.health()["status"] == "READY"
    serves_a_normal_prediction(server, origin)


def test_endless_download_stops_at_the_cap_and_frees_the_slot(serve, origin):
    server = serve("file_input")
    started = time.monotonic()
    status, body = server.predict({"input": {"f": f"{origin.url}/stream"}})
    assert time.monotonic() - started < 10
    assert status == 422, body
    assert set(body) == {"id", "error", "logs", "status", "metrics"}
    assert body["status"] == "failed" and "COG_MAX_INPUT_FILE_SIZE" in body["error"], body
    assert seen_by_run(server) == []
    assert server.health()["status"] == "READY"
    serves_a_normal_prediction(server, origin)
    assert leftovers(server) == []


def test_read_timeout_fails_the_prediction(serve, origin):
    server = serve("file_input", COG_INPUT_READ_TIMEOUT="1")
    started = time.monotonic()
    status, body = server.predict({"input": {"f": f"{origin.url}/silent"}})
    assert time.monotonic() - started < 6
    assert (status, body["status"]) == (422, "failed"), body
    assert "COG_INPUT_READ_TIMEOUT" in body["error"]
    serves_a_normal_prediction(server, origin)
    assert leftovers(server) == []


def test_client_hanging_up_during_a_download_frees_the_slot(serve, origin):
    server = serve("file_input", COG_INPUT_READ_TIMEOUT="300")  # only the disconnect can end it
    data = json.dumps({"input": {"f": f"{origin.url}/silent"}}).encode()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client.sendall(b"POST /predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
    assert origin.silent_requests.acquire(timeout=10), "the download never started"
    assert server.health()["status"] == "BUSY"
    client.close()
    assert wait_ready(server, timeout=10) < 5
    assert origin.silent_closed.acquire(timeout=2), "the download's socket stayed open"
    serves_a_normal_prediction(server, origin)  # not 409
    assert leftovers(server) == []


@pytest.mark.parametrize("fixture", ["file_input", "file_input_async"])
def test_cancel_during_a_download(serve, origin, fixture):
    server = serve(fixture, COG_INPUT_READ_TIMEOUT="300")
    with Recorder() as hooks:
        status, _ = server.predict({"id": "slow-file", "input": {"f": f"{origin.url}/silent"}, "webhook": hooks.url,
                                    "webhook_events_filter": ["completed"]}, headers={"Prefer": "respond-async"})
        assert status == 202
        assert origin.silent_requests.acquire(timeout=10), "the download never started"
        if fixture == "file_input_async":  # the event loop is not blocked by the download
            serves_a_normal_prediction(server, origin)
        canceled_at = time.monotonic()
        assert server.request("POST", "/predictions/slow-file/cancel")[0] == 200
        seen = hooks.wait_until(lambda r: any((x["json"] or {}).get("id") == "slow-file" for x in r), timeout=10)
        assert time.monotonic() - canceled_at < 3
    final = next(x["json"] for x in seen if x["json"]["id"] == "slow-file")
    assert final["status"] == "canceled", final
    assert origin.silent_closed.acquire(timeout=2), "the download's socket stayed open"
    assert wait_ready(server, timeout=10) < 3
    serves_a_normal_prediction(server, origin)
    assert len(seen_by_run(server)) == (2 if fixture == "file_input_async" else 1)  # the normal ones only
    assert leftovers(server) == []
