"""Helpers for the cog-server end-to-end tests: start a real server on 127.0.0.1 against a fixture
predictor, talk HTTP to it, and receive webhooks and uploads on local servers."""
import http.client
import http.server
import json
import os
import pathlib
import signal
import subprocess
import threading
import time

from ports import free_port  # noqa: F401 (the tests import it from here)

SOURCE_DIR = pathlib.Path(os.environ.get("COG_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
FIXTURES = SOURCE_DIR / "tests" / "fixtures" / "predictors"


def runner_ref(fixture_dir):
    for line in (fixture_dir / "cog.yaml").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("run", "predict", "train"):
            return value.strip().strip('"')
    raise AssertionError(f"no runner in {fixture_dir}/cog.yaml")


class Server:
    """A cog-server child process serving one fixture predictor."""

    def __init__(self, server_bin, fixture, env=None, args=(), stub_var="COG_PREDICT_TYPE_STUB"):
        self.fixture_dir = FIXTURES / fixture
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
        environment.update({"PORT": str(self.port), stub_var: runner_ref(self.fixture_dir),
                            "LOG_FORMAT": "console", "COG_SDK_DIR": str(SOURCE_DIR / "runtime" / "python")})
        environment.update(env or {})
        self.process = subprocess.Popen([str(server_bin), "--host", "127.0.0.1", *args], cwd=self.fixture_dir,
                                        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._output = []
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()

    def _read_output(self):
        for line in self.process.stdout:
            self._output.append(line.decode("utf-8", "replace"))

    @property
    def output(self):
        return "".join(self._output)

    def request(self, method, path, body=None, headers=None, timeout=60):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
            all_headers = {"Content-Type": "application/json"}
            all_headers.update(headers or {})
            if data is None and method in ("POST", "PUT"):
                data = b""
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            raw = response.read().decode("utf-8", "replace")
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            return response.status, parsed, raw, dict(response.getheaders())
        finally:
            connection.close()

    def health(self):
        return self.request("GET", "/health-check", timeout=10)[1]

    def wait_for(self, *statuses, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"cog-server exited with {self.process.returncode}:\n{self.output}")
            try:
                last = self.health()
                if last.get("status") in statuses:
                    return last
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"health never became {statuses}; last {last}\n{self.output}")

    def predict(self, body=None, headers=None, path="/predictions", method="POST"):
        status, parsed, _, _ = self.request(method, path, body if body is not None else {"input": {}}, headers)
        return status, parsed

    def shutdown(self, timeout=20):
        if self.process.poll() is None:
            try:
                self.request("POST", "/shutdown", timeout=5)
            except OSError:
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def worker_pid(self):
        children = pathlib.Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])


class Recorder(http.server.ThreadingHTTPServer):
    """A local HTTP server that records requests; `statuses` answers the first requests with
    those codes (then 200)."""

    daemon_threads = True

    def __init__(self, statuses=(), location=None):
        self.requests = []
        self.statuses = list(statuses)
        self.location = location
        self.lock = threading.Condition()
        super().__init__(("127.0.0.1", 0), _RecorderHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_until(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"condition not met; requests: {self.requests}")
                self.lock.wait(remaining)
        return self.requests

    def close(self):
        self.shutdown()
        self.server_close()

    def __exit__(self, *exc_info):  # `with Recorder() as hooks:` stops the serving thread too
        self.close()


class _RecorderHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        server = self.server
        with server.lock:
            status = server.statuses.pop(0) if server.statuses else 200
            entry = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body,
                     "status": status}
            try:
                entry["json"] = json.loads(body)
            except ValueError:
                entry["json"] = None
            server.requests.append(entry)
            server.lock.notify_all()
        self.send_response(status)
        if server.location and self.command == "PUT":
            self.send_header("Location", server.location + self.path + "?signature=abc")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = _record
    do_PUT = _record
