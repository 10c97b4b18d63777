"""Output encoding: make_encodeable rules, data URLs and uploads (Cog §4.13, §5.6)."""
import base64
import dataclasses
import datetime
import enum
import http.server
import io
import threading

import pytest
from conftest import fixture_runner

import cog
from cog._encode import encode, file_encoder
from cog._files import UploadError


def as_data(data: bytes, name: str) -> str:
    return f"<{name}:{data.decode()}>"


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Box:
    label: str
    corners: tuple


class Output(cog.BaseModel):
    text: str
    file: cog.Path


def test_plain_values():
    value = {"a": (1, 2), "b": {3}, "c": Color.RED, "d": datetime.date(2024, 1, 2),
             "e": Box("x", (1, 2)), "f": cog.Secret("s"), 5: None}
    assert encode(value, as_data) == {"a": [1, 2], "b": [3], "c": "red", "d": "2024-01-02",
                                      "e": {"label": "x", "corners": [1, 2]}, "f": "**********", "5": None}


def test_files_inside_structures(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("hello")
    model = Output(text="t", file=cog.Path(path))
    assert encode([model, io.BytesIO(b"raw")], as_data) == [{"text": "t", "file": "<out.txt:hello>"}, "<output:raw>"]


def test_data_url(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG")
    url = encode(cog.Path(path), file_encoder(None))
    assert url == "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    unknown = tmp_path / "blob.unknownext"
    unknown.write_bytes(b"x")
    assert encode(cog.Path(unknown), file_encoder(None)).startswith("data:application/octet-stream;base64,")


def test_unserialisable_object_is_reported():
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode(object(), as_data)


@pytest.fixture
def upload_server():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], self.headers.get("X-Prediction-ID"), body))
            if self.path.startswith("/fail"):
                self.send_error(500)
                return
            self.send_response(201)
            if self.path.startswith("/located"):
                self.send_header("Location", "https://cdn.example.com/files/abc.txt?signature=xyz")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_upload_uses_location_without_query(tmp_path, upload_server):
    base, received = upload_server
    path = tmp_path / "abc.txt"
    path.write_text("payload")
    url = encode(cog.Path(path), file_encoder(base + "/located/", "pred-1"))
    assert url == "https://cdn.example.com/files/abc.txt"
    assert received == [("/located/abc.txt", "text/plain", "pred-1", b"payload")]


def test_upload_without_location_uses_request_url(tmp_path, upload_server):
    base, received = upload_server
    path = tmp_path / "a b.json"
    path.write_text("{}")
    url = encode([cog.Path(path)], file_encoder(base + "/plain"))
    assert url == [base + "/plain/a%20b.json"]
    assert received[0][1] == "application/json"


def test_upload_failure(tmp_path, upload_server):
    base, _ = upload_server
    path = tmp_path / "x.txt"
    path.write_text("x")
    with pytest.raises(UploadError, match="Failed to upload file output"):
        encode(cog.Path(path), file_encoder(base + "/fail"))


def test_runner_encodes_fixture_outputs():
    runner = fixture_runner("output_model")
    result = runner.run(runner.validate_and_prepare({"text": "abc"}), lambda _: None)
    assert runner.encode_output(result, None, "p") == {
        "text": "abc", "file": "data:text/plain;base64," + base64.b64encode(b"ABC").decode(), "score": 0.5}
    paths = fixture_runner("output_paths")
    encoded = paths.encode_output(paths.run({"count": 1}, lambda _: None))
    assert isinstance(encoded, list) and len(encoded) == 1 and encoded[0].startswith("data:text/plain;base64,")
    assert fixture_runner("output_dict").encode_output({"t": (1, 2)}) == {"t": [1, 2]}


def test_pydantic_models_if_available():
    pydantic = pytest.importorskip("pydantic")

    class Out(pydantic.BaseModel):
        name: str

    assert encode(Out(name="x"), as_data) == {"name": "x"}


def test_numpy_if_available():
    numpy = pytest.importorskip("numpy")
    assert encode({"a": numpy.arange(3), "b": numpy.float32(1.5)}, as_data) == {"a": [0, 1, 2], "b": 1.5}
