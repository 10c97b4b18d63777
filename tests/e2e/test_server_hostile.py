"""A hostile client against the real cog-server: each class of request that once crashed, wedged
or fooled it (issue: "Harden the prediction server"), sent over loopback, then proof that the
server is still READY and serves a normal prediction, with no thread or file descriptor leaked.
Every loop is bounded in count and time."""
import json
import os
import random
import socket
import subprocess
import threading
import time

import pytest

from cog_server_harness import Server

# Small limits make every refusal quick to reach; the defaults are in docs/security.md.
LIMITS = {
    "COG_HTTP_HEAD_TIMEOUT": "2",
    "COG_HTTP_BODY_TIMEOUT": "2",
    "COG_HTTP_MAX_BODY_BYTES": "100000",
    "COG_HTTP_MAX_CONNECTIONS": "32",
}


@pytest.fixture(scope="module")
def server(server_bin):
    instance = Server(server_bin, "hostile", env=LIMITS)
    instance.wait_for("READY")
    yield instance
    instance.shutdown()


def raw_exchange(port, data, timeout=10, shut_write=False):
    """Sends raw bytes and reads until the server closes the connection (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                return b"".join(chunks), True  # closed by the server
            chunks.append(chunk)
        return b"".join(chunks), False


def status_of(response):
    line = response.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def assert_still_serving(server):
    assert server.process.poll() is None, server.output
    assert server.health()["status"] == "READY"
    status, body = server.predict({"input": {"count": 3}})
    assert (status, body["status"], body["output"]) == (200, "succeeded", "count=3 data=None"), body


def counts(server):
    pid = server.process.pid
    return len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(server):
    for line in open(f"/proc/{server.process.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_deeply_nested_json_is_refused_and_the_server_lives(server):
    body = '{"input": {"data": {"x": ' + "[" * 20000 + "]" * 20000 + "}}}"
    status, parsed = server.predict(body)
    assert status == 400
    assert parsed["detail"][0]["msg"] == "Invalid JSON in request body: nested deeper than 128 levels"
    # Nesting inside a string is text, not structure.
    status, parsed = server.predict({"input": {"data": {"x": "[" * 20000}}})
    assert status == 200, parsed
    assert_still_serving(server)


def test_an_id_that_is_not_utf8_is_refused_and_nothing_waits_on_it(server):
    status, parsed, _, _ = server.request("PUT", "/predictions/%FF%FE", {"input": {}},
                                          headers={"Prefer": "respond-async"})
    assert status == 422
    assert parsed["detail"][0]["loc"] == ["path", "prediction_id"]
    assert "not valid UTF-8" in parsed["detail"][0]["msg"]
    status, parsed = server.predict({"id": "a\u0001b", "input": {}})
    assert status == 422 and parsed["detail"][0]["loc"] == ["body", "id"]
    status, parsed, _, _ = server.request("PUT", "/predictions/" + "x" * 300, {"input": {}})
    assert status == 422
    # A valid non-ASCII id comes back byte for byte and ends the prediction.
    status, parsed, _, _ = server.request("PUT", "/predictions/caf%C3%A9-%E2%98%95", {"input": {}})
    assert (status, parsed["id"], parsed["status"]) == (200, "café-☕", "succeeded")
    assert_still_serving(server)


def test_webhook_and_filter_of_the_wrong_type_are_422(server):
    status, parsed = server.predict({"input": {}, "webhook": 5})
    assert status == 422 and parsed["detail"][0]["loc"] == ["body", "webhook"]
    status, parsed = server.predict({"input": {}, "webhook": "http://127.0.0.1:9/", "webhook_events_filter": "start"})
    assert status == 422 and parsed["detail"][0]["loc"] == ["body", "webhook_events_filter"]


def test_an_integer_beyond_64_bits_is_refused_not_rounded(server):
    status, parsed = server.predict('{"input": {"count": 123456789012345678901234567890}}')
    assert status == 422
    assert parsed["detail"] == [{"loc": ["body", "input", "count"], "msg": "Input should be an integer that fits in 64 bits",
                                 "type": "value_error"}]
    status, parsed = server.predict('{"input": {"count": 9223372036854775807}}')
    assert (status, parsed["output"]) == (200, "count=9223372036854775807 data=None")


@pytest.mark.parametrize("head, expected", [
    (b"POST /predictions HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n{\"input\":{}}", 400),
    (b"POST /predictions HTTP/1.1\r\nContent-Length: +12\r\n\r\n{\"input\":{}}", 400),
    (b"POST /predictions HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n{\"input\":{}}", 400),
    (b"POST /predictions HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /predictions HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 400),
    (b"POST /predictions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /predictions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 12\r\n\r\n", 400),
    (b"POST /predictions HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}", 415),
    (b"GET /health-check HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"GET /health-check HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", 400),
    (b"GET /health-check HTTP/1.1\nHost: x\n\n", 400),
    (b"GET /health-check HTTP/7.0\r\n\r\n", 505),
    (b"POST /predictions HTTP/1.1\r\nContent-Length: 200000\r\n\r\n", 413),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(150)) + b"\r\n", 431),
])
def test_ambiguous_or_oversized_framing_is_refused_and_the_connection_closed(server, head, expected):
    response, closed = raw_exchange(server.port, head, timeout=10)
    assert status_of(response) == expected, response[:300]
    assert closed, "the connection must be closed after a framing error"
    assert b"Connection: close" in response


def test_a_pipelined_second_request_after_a_bad_one_is_never_served(server):
    smuggled = (b"POST /predictions HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n"
                b"POST /predictions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
    response, closed = raw_exchange(server.port, smuggled)
    assert status_of(response) == 400 and closed
    assert response.count(b"HTTP/1.1") == 1


def test_good_requests_pipelined_on_one_connection_are_all_answered(server):
    one = b'POST /predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{"input": {"count": 2}}'
    response, _ = raw_exchange(server.port, b"\r\n" + one + one + b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert response.count(b"HTTP/1.1 200") == 3, response
    assert response.count(b"count=2 data=None") == 2


def test_huge_headers_are_refused_without_the_server_growing(server):
    before = rss_kib(server)
    for _ in range(5):
        header_flood = b"GET /health-check HTTP/1.1\r\n" + b"X-Fill: " + b"a" * (4 << 20) + b"\r\n\r\n"
        try:
            response, _ = raw_exchange(server.port, header_flood, timeout=10)
        except (BrokenPipeError, ConnectionResetError):
            response = b"HTTP/1.1 431"  # refused before we finished sending, which is the point
        assert status_of(response) == 431, response[:200]
    assert rss_kib(server) - before < 20 * 1024, "the server grew by more than 20 MiB from refused heads"
    assert_still_serving(server)


def test_a_slow_head_or_body_gets_408_within_its_deadline(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /health-check HTTP/1.1\r\n")
        response = b""
        while True:  # one header byte a second: the whole head has 2 s
            try:
                sock.sendall(b"X")
            except OSError:
                break
            sock.settimeout(1)
            try:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                response += chunk
            except socket.timeout:
                pass
            if time.monotonic() - started > 12:
                break
        assert status_of(response) == 408, response
        assert time.monotonic() - started < 6
    response, closed = raw_exchange(server.port, b"POST /predictions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"in", timeout=10)
    assert status_of(response) == 408 and closed


def test_a_chunked_body_over_the_limit_is_refused(server):
    chunk = b"%x\r\n%s\r\n" % (50000, b"a" * 50000)
    head = b"POST /predictions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    try:
        response, closed = raw_exchange(server.port, head + chunk * 4 + b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        response, closed = b"HTTP/1.1 413", True
    assert status_of(response) == 413 and closed
    # A small chunked request is served.
    body = b'{"input": {"count": 4}}'
    response, _ = raw_exchange(server.port, b"POST /predictions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                               b"Connection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert status_of(response) == 200 and b"count=4" in response


def test_slow_and_idle_clients_cannot_starve_health_checks_or_predictions(server):
    """More clients than the connection budget (32 here) hold connections, half trickling a
    byte a second, half idle after one request; health checks and predictions still get through."""
    holders = []
    stop = threading.Event()

    def trickle(sock):
        try:
            sock.sendall(b"GET /health-check HTTP/1.1\r\n")
            while not stop.wait(1):
                sock.sendall(b"X")
        except OSError:
            pass

    try:
        for n in range(80):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            holders.append(sock)
            if n % 2:
                sock.sendall(b"GET / HTTP/1.1\r\n\r\n")  # then idles on a kept-alive connection
            else:
                threading.Thread(target=trickle, args=(sock,), daemon=True).start()
        time.sleep(0.5)
        for _ in range(10):
            started = time.monotonic()
            assert server.health()["status"] == "READY"
            assert time.monotonic() - started < 3
            status, body = server.predict({"input": {"count": 5}})
            assert status in (200, 503), body  # past the budget a client may be asked to retry
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200 and body["output"] == "count=5 data=None"
    finally:
        stop.set()
        for sock in holders:
            sock.close()
    assert_still_serving(server)


def test_random_garbage_does_not_hurt_it(server):
    generator = random.Random(1234)
    pieces = [b"GET", b"POST", b"PUT", b" ", b"/predictions", b"/health-check", b"HTTP/1.1", b"\r\n", b"\n", b":",
              b"Content-Length", b"Transfer-Encoding", b"chunked", b"-1", b"0x10", b"{", b"[", b"\x00", b"\xff"]
    for _ in range(300):
        if generator.random() < 0.5:
            blob = bytes(generator.randrange(256) for _ in range(generator.randrange(1, 200)))
        else:
            blob = b"".join(generator.choice(pieces) for _ in range(generator.randrange(1, 40)))
        try:
            raw_exchange(server.port, blob, timeout=3, shut_write=True)
        except OSError:
            pass
    assert_still_serving(server)


def test_nothing_leaked_after_the_attacks(server):
    """Runs last in this file: threads and descriptors are back near where a fresh server is."""
    deadline = time.monotonic() + 40  # idle connection threads retire after 30 s
    threads, fds = counts(server)
    while time.monotonic() < deadline and (threads > 30 or fds > 30):
        time.sleep(1)
        threads, fds = counts(server)
    assert threads <= 30, f"{threads} threads still alive"
    assert fds <= 30, f"{fds} file descriptors still open: {os.listdir(f'/proc/{server.process.pid}/fd')}"
    assert_still_serving(server)


def test_a_second_server_on_a_used_port_fails_clearly(server, server_bin):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
    environment.update({"PORT": str(server.port), "COG_PREDICT_TYPE_STUB": "run.py:Runner"})
    second = subprocess.run([str(server_bin), "--host", "127.0.0.1"], cwd=server.fixture_dir, env=environment,
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"port {server.port} is in use" in second.stderr
    assert_still_serving(server)
