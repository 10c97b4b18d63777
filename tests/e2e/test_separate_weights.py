"""cog build --separate-weights: large weight files get their own layers before the code layer, the
code layer leaves them out, a code change reuses the weight layers, and the image runs the same.
Needs root."""
import hashlib
import os
import random
import tarfile

import pytest

from cog_cli import make_project, run_cog as cog, store_blob, stored_image, tag_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

RUN_PY = '''import hashlib
from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        digests = [hashlib.sha256(open(p, "rb").read()).hexdigest()[:12] for p in ("weights/model.bin", "big.ckpt")]
        return "{} {}".format(GREETING, " ".join(digests))


GREETING = "weights"
'''

MIB = 1024 * 1024


def image_layers(tag):
    """[(digest, [paths in the layer])] of a store image."""
    layers = []
    for layer in stored_image(tag)[0]["layers"]:
        with tarfile.open(store_blob(layer["digest"])) as tar:
            layers.append((layer["digest"], tar.getnames()))
    return layers


def built(stderr):
    return int(stderr.split(" layers built")[0].rsplit("; ", 1)[1])


@pytest.fixture
def project(tmp_path):
    project = make_project(tmp_path / "weighty", RUN_PY)
    (project / "weights").mkdir()
    # Weights of their own each run: with the same bytes every time, a layer cached by an earlier run
    # (or a parallel one) would be reused and the "layers built" counts below would depend on history.
    rng = random.Random(os.urandom(16))
    (project / "weights/model.bin").write_bytes(rng.randbytes(11 * MIB))
    (project / "weights/config.json").write_text("{}")
    (project / "big.ckpt").write_bytes(rng.randbytes(10 * MIB + 1))
    return project


tag = tag_fixture("cog-e2e-weights")


def expected_output(project, greeting="weights"):
    digests = [hashlib.sha256((project / p).read_bytes()).hexdigest()[:12] for p in ("weights/model.bin", "big.ckpt")]
    return f"{greeting} {' '.join(digests)}\n"


def test_weights_get_their_own_layers_and_survive_a_code_change(cog_bin, project, tag):
    cog(cog_bin, "build", "-t", tag, "--separate-weights", cwd=project)
    layers = image_layers(tag)
    source_digest, source = layers[-1]
    weights = [(digest, names) for digest, names in layers if any(n.startswith("src/") for n in names)][:-1]
    assert [sorted(n for n in names if n.startswith("src/")) for _, names in weights] == [
        ["src/weights", "src/weights/config.json", "src/weights/model.bin"], ["src/big.ckpt"]]
    assert "src/run.py" in source
    assert not any(n.startswith("src/weights") or n == "src/big.ckpt" for n in source), source
    assert cog(cog_bin, "run", tag, cwd=project).stdout == expected_output(project)

    (project / "run.py").write_text(RUN_PY.replace('GREETING = "weights"', 'GREETING = "changed"'))
    rebuilt = cog(cog_bin, "build", "-t", tag, "--separate-weights", cwd=project)
    assert built(rebuilt.stderr) == 1, rebuilt.stderr  # only the code layer
    after = image_layers(tag)
    assert [d for d, _ in after[:-1]] == [d for d, _ in layers[:-1]]
    assert after[-1][0] != source_digest
    assert cog(cog_bin, "run", tag, cwd=project).stdout == expected_output(project, "changed")

    # New weights in one file: only its layer (and the code layer, always) is rebuilt.
    with open(project / "big.ckpt", "r+b") as weights_file:
        weights_file.write(b"new weights")
    rebuilt = cog(cog_bin, "build", "-t", tag, "--separate-weights", cwd=project)
    assert built(rebuilt.stderr) == 2, rebuilt.stderr
    changed = image_layers(tag)
    assert [d for d, _ in changed[:-2]] == [d for d, _ in layers[:-2]]
    assert changed[-2][0] != layers[-2][0]
    assert cog(cog_bin, "run", tag, cwd=project).stdout == expected_output(project, "changed")


def test_without_the_flag_weights_stay_in_the_code_layer(cog_bin, project, tag):
    cog(cog_bin, "build", "-t", tag, cwd=project)
    layers = image_layers(tag)
    assert "src/weights/model.bin" in layers[-1][1] and "src/big.ckpt" in layers[-1][1]
    assert cog(cog_bin, "run", tag, cwd=project).stdout == expected_output(project)
