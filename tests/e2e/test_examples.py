"""The models in examples/: each is copied to a temporary directory, built with `cog build -t <tag>` and
run with `cog run <tag>` (training with `cog train <tag>`), and its real output is checked.

Needs root (namespaces, overlayfs, runc), Debian's mirror and PyPI for the first build of each example
(pip and apt caches make later builds fast). The embeddings example installs NumPy and an 87 MiB model
package; it only runs with COG_E2E_HEAVY=1."""
import base64
import functools
import http.server
import json
import math
import os
import pathlib
import shutil
import struct
import threading
import uuid
import zlib

import pytest

from cog_cli import remove_images, run_cog as cog

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

heavy = pytest.mark.skipif(os.environ.get("COG_E2E_HEAVY") != "1",
                           reason="heavy example (large downloads); set COG_E2E_HEAVY=1 to run it")


@pytest.fixture
def example(tmp_path, cog_bin):
    """Copies examples/<name> to a temporary directory and builds it under a unique tag."""
    tags = []

    def build(name):
        unique = f"{name}-{uuid.uuid4().hex[:8]}"
        # A unique directory name gives `cog exec` a unique development image (cog-<dir>-dev).
        project = tmp_path / unique
        shutil.copytree(EXAMPLES / name, project, ignore=shutil.ignore_patterns("__pycache__", ".cog"))
        tag = f"cog-example-{unique}"
        result = cog(cog_bin, "build", "-t", tag, cwd=project)
        assert f"Image built as {tag}" in result.stderr, result.stderr
        tags.extend([tag, f"cog-{unique}-dev"])
        return project, tag

    yield build
    remove_images(cog_bin, *tags)


# --- PNG without Pillow (the host running the tests need not have it) ---------------------------------

def write_png(path, width, height, pixel):
    """An 8-bit RGB PNG; pixel(x, y) -> (r, g, b)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def read_png(path):
    """(width, height, color_type, rows) of a non-interlaced 8-bit PNG; rows are lists of channel bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, header, idat = 8, None, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    assert depth == 8 and interlace == 0, header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    stride = width * channels
    raw = zlib.decompress(idat)
    rows, previous = [], [0] * stride
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        line = list(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        rows.append(line)
        previous = line
    return width, height, color_type, rows


# --- examples/image ----------------------------------------------------------------------------------

def test_image_grayscale_and_resize(cog_bin, example):
    project, tag = example("image")
    # Left half pure red, right half pure blue.
    write_png(project / "input.png", 40, 30, lambda x, y: (255, 0, 0) if x < 20 else (0, 0, 255))

    cog(cog_bin, "run", tag, "-i", "image=@input.png", "-i", "scale=0.5", cwd=project)
    width, height, color_type, rows = read_png(project / "output.png")
    assert (width, height, color_type) == (20, 15, 0)  # 8-bit grayscale ("L")
    # Pillow's L = (299 R + 587 G + 114 B) / 1000: red → 76, blue → 29; nearest-neighbour keeps the edge.
    assert all(row == [76] * 10 + [29] * 10 for row in rows), rows[0]

    cog(cog_bin, "run", tag, "-i", "image=@input.png", "-i", "scale=2", "-o", "big.png", cwd=project)
    width, height, color_type, rows = read_png(project / "big.png")
    assert (width, height, color_type) == (80, 60, 0)
    assert rows[59][:40] == [76] * 40 and rows[0][40:] == [29] * 40

    # ge/le are checked before the prediction runs.
    result = cog(cog_bin, "run", tag, "-i", "image=@input.png", "-i", "scale=5", cwd=project, check=False)
    assert result.returncode != 0
    assert "scale" in result.stderr, result.stderr


# --- examples/streaming ------------------------------------------------------------------------------

def test_streaming_concatenate_iterator(cog_bin, example):
    project, tag = example("streaming")
    result = cog(cog_bin, "run", tag, "-i", "prompt=hello streaming world", cwd=project)
    # Iterator outputs print as a JSON array (as Cog); concatenated they are the answer.
    pieces = json.loads(result.stdout)
    assert pieces == ["HELLO", " STREAMING", " WORLD"]
    assert "".join(pieces) == "HELLO STREAMING WORLD"

    result = cog(cog_bin, "run", tag, "--json", json.dumps({"prompt": "hello streaming world", "style": "reverse"}),
                 cwd=project)
    prediction = json.loads(result.stdout)
    assert prediction["status"] == "succeeded"
    assert prediction["output"] == ["olleh", " gnimaerts", " dlrow"]

    result = cog(cog_bin, "run", tag, "-i", "prompt=x", "-i", "style=shout", cwd=project, check=False)
    assert result.returncode != 0
    assert "must be one of: upper, reverse, title" in result.stderr, result.stderr


# --- examples/train ----------------------------------------------------------------------------------

CORPUS = "the cat sat on the mat the cat ran to the cat"


@pytest.fixture
def file_server(tmp_path):
    """Serves tmp_path/served over HTTP on 127.0.0.1 (containers share the host's network)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_train_then_predict_with_weights(cog_bin, example, file_server):
    project, tag = example("train")
    result = cog(cog_bin, "train", tag, "-i", f"corpus={CORPUS}", cwd=project)
    assert "trained on 12 words, 7 contexts" in result.stderr, result.stderr
    weights = project / "weights.json"  # cog train's default output name, extension from the MIME type
    trained = json.loads(weights.read_text())
    assert trained["format"] == "bigrams-v1" and trained["words"] == 12
    assert trained["bigrams"]["the"] == {"cat": 3, "mat": 1}
    assert trained["bigrams"]["cat"] == {"ran": 1, "sat": 1}

    # Without weights the predictor uses its built-in ones.
    result = cog(cog_bin, "run", tag, "-i", "start=hello", cwd=project)
    assert result.stdout.removesuffix("\n") == "hello from cog"

    # Weights from a URL, as a Replicate fine-tune passes them: setup(weights=COG_WEIGHTS).
    served, url = file_server
    shutil.copy(weights, served / "weights.json")
    result = cog(cog_bin, "run", tag, "-e", f"COG_WEIGHTS={url}/weights.json", "-i", "start=the", "-i", "length=4",
                 cwd=project)
    assert result.stdout.removesuffix("\n") == "the cat ran to the"

    # ... or as a data URL.
    data_url = "data:application/json;base64," + base64.b64encode(weights.read_bytes()).decode()
    result = cog(cog_bin, "run", tag, "-e", f"COG_WEIGHTS={data_url}", "-i", "start=sat", "-i", "length=3",
                 cwd=project)
    assert result.stdout.removesuffix("\n") == "sat on the cat"

    # A bad weights file fails setup.
    (served / "bad.json").write_text('{"format": "other"}')
    result = cog(cog_bin, "run", tag, "-e", f"COG_WEIGHTS={url}/bad.json", "-i", "start=the", cwd=project,
                 check=False)
    assert result.returncode != 0
    assert "setup failed" in result.stderr.lower(), result.stderr


# --- examples/ocr ------------------------------------------------------------------------------------

def test_ocr_reads_rendered_text(cog_bin, example):
    project, tag = example("ocr")
    # The model's own environment renders the text (Pillow + DejaVu Sans from fonts-dejavu-core), so the
    # host needs neither; the project is mounted at /src, so the PNG lands in the project directory.
    cog(cog_bin, "exec", "python3", "render.py", "Quartz Sphinx 2026", "text.png", cwd=project)
    width, height, _, _ = read_png(project / "text.png")
    assert width > 300 and height > 48

    result = cog(cog_bin, "run", tag, "-i", "image=@text.png", cwd=project)
    assert result.stdout.strip() == "Quartz Sphinx 2026"

    cog(cog_bin, "exec", "python3", "render.py", "Offline models", "second.png", cwd=project)
    result = cog(cog_bin, "run", tag, "-i", "image=@second.png", "-i", "psm=7", cwd=project)
    assert "Offline" in result.stdout and "models" in result.stdout, result.stdout


# --- examples/embeddings -----------------------------------------------------------------------------

def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@heavy
def test_embeddings_similarity(cog_bin, example):
    project, tag = example("embeddings")

    def embed(text):
        result = cog(cog_bin, "run", tag, "-i", f"text={text}", cwd=project)
        vector = json.loads(result.stdout)
        assert len(vector) == 384 and all(isinstance(v, float) for v in vector)
        assert abs(math.sqrt(sum(v * v for v in vector)) - 1.0) < 1e-3  # normalised, as the model's modules.json
        return vector

    cat = embed("A cat is sleeping on the sofa.")
    kitten = embed("A kitten naps on the couch.")
    finance = embed("The central bank raised interest rates again.")
    assert cosine(cat, kitten) > 0.5
    assert cosine(cat, finance) < 0.2
    assert cosine(cat, kitten) > cosine(cat, finance) + 0.3
    assert cosine(kitten, finance) < cosine(cat, kitten)
