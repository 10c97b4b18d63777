"""File inputs from a hostile client: local paths refused, downloads bounded in size and time,
and a cancel (SIGUSR1 for sync runners, task.cancel() for async ones) stopping them at once."""
import asyncio
import http.server
import os
import signal
import threading
import time

import pytest
from conftest import fixture_runner

from cog import CancelationException, Path
from cog._files import FileInputError, Limits, fetch, filename_from_url
from cog._inputs import PreparedFiles
from cog._worker import InputError, install_cancel_handler

STREAM_SECONDS = 15  # "forever", bounded so that a run against a broken fetch still ends


class HostileServer(http.server.ThreadingHTTPServer):
    """/stream: 64 KiB every 10 ms with no Content-Length; /silent: never answers; /short: 10 of
    the 1000 bytes it announces; /huge: announces 1 TB; /drip: one byte every 200 ms."""

    daemon_threads = True

    def __init__(self):
        self.stop = threading.Event()
        self.stream_ended = threading.Event()  # set when a /stream client went away
        super().__init__(("127.0.0.1", 0), _HostileHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self):
        self.stop.set()
        self.shutdown()
        self.server_close()


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802
        server = self.server
        path = self.path.split("?")[0]
        if path == "/silent":
            server.stop.wait(STREAM_SECONDS)
            return
        self.send_response(200)
        if path == "/short":
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            return
        if path == "/huge":
            self.send_header("Content-Length", str(10 ** 12))
            self.end_headers()
            self.wfile.write(b"x" * 10)
            return
        self.end_headers()
        chunk, pause = (b"x" * 65536, 0.01) if path == "/stream" else (b"x", 0.2)
        deadline = time.monotonic() + STREAM_SECONDS
        try:
            while time.monotonic() < deadline and not server.stop.is_set():
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            server.stream_ended.set()

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    server = HostileServer()
    yield server
    server.close()


@pytest.fixture
def input_types():
    return fixture_runner("input_types")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The temp dir that cog-input-* directories go to, to see that none is left behind."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(directory))
    return directory


def files_under(directory):
    return [os.path.join(root, name) for root, _, names in os.walk(directory) for name in names]


def input_threads():
    return [t for t in threading.enumerate() if t.name.startswith("cog-input")]


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# -- local paths --------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("image", "/etc/passwd"),
    ("image", "file:///etc/passwd"),
    ("image", "run.py"),
    ("image", "../input_types/run.py"),
    ("image", "ftp://127.0.0.1/x"),
    ("document", "/etc/passwd"),
    ("images", ["data:,ok", "/etc/passwd"]),
])
def test_local_paths_are_refused(input_types, monkeypatch, field, value):
    monkeypatch.delenv("COG_LOCAL_FILE_INPUTS", raising=False)
    raw = {"text": "a", "image": "data:,x"}
    raw[field] = value
    with pytest.raises(InputError) as caught:
        input_types.validate_and_prepare(raw)
    [error] = caught.value.errors
    assert error["loc"] == ["body", "input", field] and error["type"] == "value_error"
    assert f"is refused for input '{field}': file inputs must be http://, https:// or data: URLs" in error["msg"]
    input_types.cleanup()


def test_opt_in_directory_allows_only_files_inside_it(input_types, tmp_path, monkeypatch):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "in.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    (allowed / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (allowed / "inner.txt").symlink_to(allowed / "in.txt")
    monkeypatch.setenv("COG_LOCAL_FILE_INPUTS", str(allowed))
    real_inside = os.path.realpath(allowed / "in.txt")
    for value in (str(allowed / "in.txt"), f"file://{allowed}/in.txt", "in.txt", str(allowed / "inner.txt"),
                  str(allowed / "sub" / ".." / "in.txt")):
        kwargs = input_types.validate_and_prepare({"text": "a", "image": value})
        assert isinstance(kwargs["image"], Path) and str(kwargs["image"]) == real_inside, value
        assert kwargs["image"].read_text() == "inside"
    for value in (str(allowed / "escape.txt"), str(allowed / ".." / "secret.txt"), "../secret.txt",
                  str(tmp_path / "secret.txt"), "/etc/passwd", str(allowed), f"file://{tmp_path}/secret.txt"):
        with pytest.raises(InputError, match="COG_LOCAL_FILE_INPUTS"):
            input_types.validate_and_prepare({"text": "a", "image": value})
    input_types.cleanup()


def test_a_local_default_from_the_model_is_kept(make_runner, tmp_path, monkeypatch):
    monkeypatch.delenv("COG_LOCAL_FILE_INPUTS", raising=False)
    (tmp_path / "bundled.txt").write_text("shipped with the model")
    runner = make_runner("""
        from cog import BaseRunner, Input, Path
        class Runner(BaseRunner):
            def run(self, f: Path = Input(default="bundled.txt")) -> str:
                return f.read_text()
    """)
    assert runner.run(runner.validate_and_prepare({}), lambda _: None) == "shipped with the model"
    with pytest.raises(InputError):  # the same path sent by a client is refused
        runner.validate_and_prepare({"f": "bundled.txt"})


# -- limits -------------------------------------------------------------------------------------

def test_endless_stream_stops_at_the_size_cap(input_types, hostile, private_tmp, monkeypatch):
    monkeypatch.setenv("COG_MAX_INPUT_FILE_SIZE", str(1 << 20))
    started = time.monotonic()
    with pytest.raises(FileInputError, match=r"image: failed to download .*larger than 1048576 bytes "
                                             r"\(COG_MAX_INPUT_FILE_SIZE\)"):
        input_types.validate_and_prepare({"text": "a", "image": f"{hostile.url}/stream"}, "p")
    assert time.monotonic() - started < 5
    assert files_under(private_tmp) == []  # the partial file is gone even before cleanup
    input_types.cleanup("p")
    assert os.listdir(private_tmp) == []


def test_announced_size_over_the_cap_is_refused_before_downloading(hostile, tmp_path):
    with pytest.raises(FileInputError, match="COG_MAX_INPUT_FILE_SIZE"):
        fetch(f"{hostile.url}/huge", str(tmp_path), limits=Limits(max_size=1000))
    assert os.listdir(tmp_path) == []


def test_silent_server_hits_the_read_timeout(input_types, hostile, private_tmp, monkeypatch):
    monkeypatch.setenv("COG_INPUT_READ_TIMEOUT", "0.5")
    started = time.monotonic()
    with pytest.raises(FileInputError, match=r"no data received for 0.5 s \(COG_INPUT_READ_TIMEOUT\)"):
        input_types.validate_and_prepare({"text": "a", "image": f"{hostile.url}/silent"}, "p")
    assert time.monotonic() - started < 3
    input_types.cleanup("p")
    assert os.listdir(private_tmp) == []


def test_dripping_server_hits_the_total_deadline(hostile, tmp_path):
    started = time.monotonic()
    with pytest.raises(FileInputError, match=r"not finished within 1 s \(COG_INPUT_DOWNLOAD_TIMEOUT\)"):
        fetch(f"{hostile.url}/drip", str(tmp_path), limits=Limits(read_timeout=5, total_timeout=1))
    assert time.monotonic() - started < 3
    assert os.listdir(tmp_path) == []


def test_body_shorter_than_its_content_length_is_an_error(hostile, tmp_path):
    with pytest.raises(FileInputError, match="ended after 10 of the 1000 bytes"):
        fetch(f"{hostile.url}/short", str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_connect_timeout_is_reported(tmp_path):
    # A listening socket whose backlog is full does not complete new handshakes on Linux.
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(listener.getsockname())
                fillers.append(filler)
            started = time.monotonic()
            with pytest.raises(FileInputError, match="COG_INPUT_(CONNECT|READ)_TIMEOUT"):
                fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/x", str(tmp_path),
                      limits=Limits(connect_timeout=0.5, read_timeout=0.5))
            assert time.monotonic() - started < 3
        finally:
            for filler in fillers:
                filler.close()


def test_limits_from_the_environment():
    assert Limits.from_env({}) == Limits(1 << 30, 10.0, 30.0, 600.0)
    assert Limits.from_env({"COG_MAX_INPUT_FILE_SIZE": "0", "COG_INPUT_CONNECT_TIMEOUT": "2",
                            "COG_INPUT_READ_TIMEOUT": "0.5", "COG_INPUT_DOWNLOAD_TIMEOUT": "0"}) == Limits(0, 2, 0.5, 0)
    # Nonsense falls back to the defaults (with a warning) rather than disabling a limit.
    assert Limits.from_env({"COG_MAX_INPUT_FILE_SIZE": "-1", "COG_INPUT_READ_TIMEOUT": "0",
                            "COG_INPUT_CONNECT_TIMEOUT": "soon"}) == Limits()


# -- data: URLs and names -----------------------------------------------------------------------

@pytest.mark.parametrize("uri", ["data:text/plain;base64,!!!", "data:text/plain;base64,aGk",
                                 "data:text/plain;base64,aG-k", "data:;base64,aGk=!"])
def test_invalid_base64_is_an_error(tmp_path, uri):
    with pytest.raises(FileInputError, match="not valid base64"):
        fetch(uri, str(tmp_path))


@pytest.mark.parametrize("uri", ["data:text/plain;base64,aGk=", "data:text/plain;base64,aG\nk=",
                                 "data:text/plain;base64,aGk%3D", "data:text/plain,hi", "data:,h%69"])
def test_valid_data_urls(tmp_path, uri):
    assert open(fetch(uri, str(tmp_path)), "rb").read() == b"hi"


def test_data_url_over_the_cap(tmp_path):
    with pytest.raises(FileInputError, match="COG_MAX_INPUT_FILE_SIZE"):
        fetch("data:,0123456789", str(tmp_path), limits=Limits(max_size=5))


@pytest.mark.parametrize("url", ["https://h/..", "https://h/.", "https://h/%2e%2e", "https://h/a/%2E",
                                 "https://h/"])
def test_names_never_leave_the_directory(url):
    assert filename_from_url(url) == "file"
    assert filename_from_url("https://h/%2F..%2F..%2Fetc%2Fpasswd") == "_.._.._etc_passwd"


# -- cancel -------------------------------------------------------------------------------------

def test_sync_cancel_stops_the_download_at_once(input_types, hostile, private_tmp, monkeypatch):
    """As the worker does: SIGUSR1 raises CancelationException in the main thread, which waits."""
    assert threading.current_thread() is threading.main_thread()
    monkeypatch.setenv("COG_MAX_INPUT_FILE_SIZE", "0")
    previous = signal.getsignal(signal.SIGUSR1)
    install_cancel_handler()
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        started = time.monotonic()
        with pytest.raises(CancelationException):
            input_types.validate_and_prepare({"text": "a", "image": f"{hostile.url}/stream",
                                              "images": [f"{hostile.url}/silent"]}, "p")
        assert time.monotonic() - started < 2
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    input_types.cleanup("p")
    assert os.listdir(private_tmp) == []
    assert hostile.stream_ended.wait(1), "the download kept reading after the cancel"
    assert wait_until(lambda: not input_threads(), 2), input_threads()
    assert files_under(private_tmp) == []


def test_async_prepare_leaves_the_loop_free_and_task_cancel_stops_it(input_types, hostile, private_tmp,
                                                                     monkeypatch):
    monkeypatch.setenv("COG_MAX_INPUT_FILE_SIZE", "0")

    async def scenario():
        task = asyncio.create_task(input_types.validate_and_prepare_async(
            {"text": "a", "image": f"{hostile.url}/stream", "document": f"{hostile.url}/silent"}, "p"))
        ticks = 0
        for _ in range(25):  # the loop keeps turning while the file downloads
            await asyncio.sleep(0.02)
            ticks += 1
        assert not task.done()
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ticks, time.monotonic() - started

    ticks, cancel_took = asyncio.run(scenario())
    assert ticks == 25 and cancel_took < 1
    input_types.cleanup("p")
    assert os.listdir(private_tmp) == []
    assert hostile.stream_ended.wait(1), "the download kept reading after the cancel"
    assert wait_until(lambda: not input_threads(), 2), input_threads()


def test_cleanup_cancels_a_download_still_running(hostile, tmp_path):
    files = PreparedFiles()
    directory = files.new_directory()
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_catch(fetch, f"{hostile.url}/stream", directory,
                                                                   files.control, Limits(max_size=0))))
    thread.start()
    time.sleep(0.3)
    files.cleanup()
    thread.join(2)
    assert not thread.is_alive() and "canceled" in str(outcome[0])
    assert not os.path.exists(directory)


def _catch(function, *args):
    try:
        return function(*args)
    except FileInputError as error:
        return error
