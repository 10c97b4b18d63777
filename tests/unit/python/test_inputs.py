"""Input validation, coercion and file preparation (Runner.validate_and_prepare)."""
import base64
import http.server
import io
import threading

import pytest
from conftest import fixture_runner

from cog import Path, Secret
from cog._files import FileInputError, filename_from_url
from cog._worker import InputError


@pytest.fixture(scope="module")
def file_server():
    """A local HTTP server: GET /<anything> returns 'content of <path>'."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith("/missing"):
                self.send_error(404)
                return
            body = f"content of {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def input_types():
    return fixture_runner("input_types")


def data_uri(text, mime="text/plain"):
    return f"data:{mime};base64,{base64.b64encode(text.encode()).decode()}"


def errors_of(runner, raw):
    with pytest.raises(InputError) as caught:
        runner.validate_and_prepare(raw)
    return caught.value.errors


def test_missing_required_fields(input_types):
    assert errors_of(input_types, {}) == [
        {"loc": ["body", "input", "text"], "msg": "Field required", "type": "value_error.missing"},
        {"loc": ["body", "input", "image"], "msg": "Field required", "type": "value_error.missing"},
    ]


@pytest.mark.parametrize("field,value,message", [
    ("text", 3, '3 is not of type "string"'),
    ("text", None, 'null is not of type "string"'),
    ("text", "", '"" is shorter than 1 character'),
    ("text", "a" * 21, f'"{"a" * 21}" is longer than 20 characters'),
    ("text", "ABC", '"ABC" does not match "^[a-z ]+$"'),
    ("count", 0, "0 is less than the minimum of 1"),
    ("count", 11, "11 is greater than the maximum of 10"),
    ("count", "3", '"3" is not of type "integer"'),
    ("count", True, 'true is not of type "integer"'),
    ("ratio", 1.5, "1.5 is greater than the maximum of 1"),
    ("flag", 1, '1 is not of type "boolean"'),
    ("tags", "a", '"a" is not of type "array"'),
    ("tags", [1], '1 is not of type "string"'),
    ("options", [], '[] is not of type "object"'),
    ("note", None, 'null is not of type "string"'),
    ("mixed", 1.5, "1.5 is not valid under any of the schemas listed in the 'anyOf' keyword"),
    ("size", "medium", '"medium" is not one of ["small","large"]'),
    ("color", "blue", '"blue" is not one of ["red","green"]'),
])
def test_invalid_values(input_types, field, value, message):
    raw = {"text": "ok", "image": data_uri("x"), field: value}
    assert errors_of(input_types, raw) == [{"loc": ["body", "input", field], "msg": message, "type": "value_error"}]


def test_defaults_nulls_and_coercion(input_types):
    kwargs = input_types.validate_and_prepare({"text": "hello", "image": data_uri("img"), "ratio": 1, "count": 3.0,
                                               "unknown": "dropped"})
    assert "unknown" not in kwargs
    assert kwargs["count"] == 3 and type(kwargs["count"]) is int
    assert kwargs["ratio"] == 1.0 and type(kwargs["ratio"]) is float
    assert kwargs["flag"] is False
    assert kwargs["tags"] == ["a"]
    assert kwargs["note"] is None and kwargs["document"] is None and kwargs["token"] is None
    assert kwargs["images"] is None and kwargs["options"] is None
    assert kwargs["mixed"] == 1 and kwargs["size"] == "small" and kwargs["color"] == "red"
    assert isinstance(kwargs["image"], Path)
    assert kwargs["image"].read_text() == "img"
    assert kwargs["image"].name == "file.txt"
    input_types.cleanup()
    assert not kwargs["image"].exists()


def test_defaults_are_copied(input_types):
    first = input_types.validate_and_prepare({"text": "a", "image": data_uri("i")})
    first["tags"].append("mutated")
    second = input_types.validate_and_prepare({"text": "a", "image": data_uri("i")})
    assert second["tags"] == ["a"]
    input_types.cleanup()


def test_union_keeps_json_type(input_types):
    kwargs = input_types.validate_and_prepare({"text": "a", "image": data_uri("i"), "mixed": "word"})
    assert kwargs["mixed"] == "word"
    input_types.cleanup()


def test_secret_and_file_and_lists(input_types, file_server):
    kwargs = input_types.validate_and_prepare({
        "text": "a",
        "image": f"{file_server}/images/cat%20photo.png?x=1",
        "document": data_uri("doc body"),
        "token": "s3cret",
        "images": [f"{file_server}/one.txt", data_uri("two")],
    }, prediction_id="p1")
    assert isinstance(kwargs["token"], Secret) and kwargs["token"].get_secret_value() == "s3cret"
    assert str(kwargs["token"]) == "**********"
    assert kwargs["image"].name == "cat photo.png"
    assert kwargs["image"].read_text() == "content of /images/cat%20photo.png?x=1"
    assert isinstance(kwargs["document"], io.IOBase) and kwargs["document"].read() == b"doc body"
    assert [p.read_text() for p in kwargs["images"]] == ["content of /one.txt", "two"]
    assert all(isinstance(p, Path) for p in kwargs["images"])
    input_types.cleanup("p1")
    assert not kwargs["image"].exists()


def test_failed_download(input_types, file_server):
    with pytest.raises(FileInputError, match="failed to download"):
        input_types.validate_and_prepare({"text": "a", "image": f"{file_server}/missing.png"})
    input_types.cleanup()


def test_str_inputs_are_never_fetched():
    runner = fixture_runner("hello")
    assert runner.validate_and_prepare({"name": "https://example.invalid/x.png"}) == {"name": "https://example.invalid/x.png"}


def test_filename_rules():
    assert filename_from_url("https://h/a/b/my%20file.png?q=1") == "my file.png"
    assert filename_from_url("https://h/a%2Fb.txt") == "a_b.txt"
    long = filename_from_url("https://h/" + "x" * 300 + ".safetensors")
    assert len(long.encode()) <= 200 and long.endswith("~.safetensors")
    assert filename_from_url("https://h/") == "file"
