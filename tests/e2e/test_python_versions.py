"""Images for a Python other than the one our worker embeds (3.11 here): cog build compiles the worker
inside the image's Debian trixie root for 3.13, caches it, and the prediction runs on 3.13. One image is
built for the whole module: the first trixie base and compiler install take minutes when the caches are
cold, seconds after that."""
import json
import os

import pytest

from cog_cli import image_digest, make_project, run_cog as cog, tags_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

# copy.replace is new in 3.13, a `type` statement is 3.12+ syntax (so the schema must come from the
# image's Python, not the build machine's 3.11), and the output names the interpreter's version.
RUN_PY = '''import copy
import dataclasses
import sys

from cog import BaseRunner, Input


@dataclasses.dataclass(frozen=True)
class Greeting:
    text: str


type Name = str


class Runner(BaseRunner):
    def run(self, name: str = Input(default="world", description="who to greet")) -> str:
        greeting = copy.replace(Greeting("hello"), text=f"hello {name}")
        return f"{greeting.text} from {sys.version_info.major}.{sys.version_info.minor}"
'''


COG_YAML_313 = 'build:\n  python_version: "3.13"\nrun: "run.py:Runner"\n'

# cog-base's package layer (test_cog_base.py) is not what these builds are about; on trixie it would
# be a ~2 GB layer (and a trixie apt cache) of its own.
NO_COG_BASE = "--use-cog-base-image=false"


tags = tags_fixture("cog-e2e-py")


@pytest.fixture(scope="module")
def python313(cog_bin, tmp_path_factory, tags):
    """The 3.13 project, built twice: (tag, first build, second build)."""
    project = tmp_path_factory.mktemp("py313")
    (project / "cog.yaml").write_text(COG_YAML_313)
    (project / "run.py").write_text(RUN_PY)
    tag = tags()
    first = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project)
    second = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project)
    schema = json.loads((project / ".cog" / "openapi_schema.json").read_text())
    name = schema["components"]["schemas"]["Input"]["properties"]["name"]
    assert name["description"] == "who to greet", "the schema came from the model's signature"
    return tag, first, second


def test_prediction_runs_on_python_313(cog_bin, python313, tmp_path):
    tag, first, _ = python313
    assert "cog-worker for Python 3.13 (Debian trixie)" in first.stderr
    assert "SCHEMA with the image's Python 3.13" in first.stderr
    result = cog(cog_bin, "run", tag, "-i", "name=trixie", cwd=tmp_path)
    assert result.stdout == "hello trixie from 3.13\n"


def test_second_build_reuses_the_compiled_worker(python313):
    _, first, second = python313
    assert "CACHED cog-worker for Python 3.13 (Debian trixie)" in second.stderr, second.stderr
    assert "DONE compiled cog-worker" not in second.stderr
    assert "g++ runtime/worker/main.cc" not in second.stderr
    assert image_digest(second.stderr) == image_digest(first.stderr), "the same inputs give the same image"


def test_init_then_build_uses_the_templates_python(cog_bin, python313, tmp_path, tags):
    init = cog(cog_bin, "init", cwd=tmp_path)
    assert 'python_version: "3.13"' in (tmp_path / "cog.yaml").read_text(), init.stderr
    tag = tags()
    build = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=tmp_path)
    assert "CACHED cog-worker for Python 3.13 (Debian trixie)" in build.stderr
    image_digest(build.stderr)
    # The template's run() is a placeholder: the prediction reaches it on 3.13 and fails there.
    (tmp_path / "in.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = cog(cog_bin, "run", tag, "-i", "image=@in.png", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "write your model's run() here" in result.stderr


def test_a_python_no_source_offers_is_refused_with_what_is_available(cog_bin, tmp_path, tags):
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.12"\nrun: "run.py:Runner"\n')
    (tmp_path / "run.py").write_text(RUN_PY)
    result = cog(cog_bin, "build", "-t", tags(), cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "Python 3.12 is not available" in result.stderr
    assert "3.11 (Debian bookworm), 3.13 (Debian trixie)" in result.stderr
    assert "Image built as" not in result.stderr


@pytest.mark.skipif(os.environ.get("COG_E2E_HEAVY") != "1", reason="recompiles the worker (a minute): COG_E2E_HEAVY=1")
def test_no_cache_recompiles_the_worker_to_the_same_image(cog_bin, python313, tmp_path):
    tag, first, _ = python313
    project = make_project(tmp_path / "again", RUN_PY, COG_YAML_313)
    fresh = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "--no-cache", cwd=project)
    assert "DONE compiled cog-worker for Python 3.13" in fresh.stderr
    assert image_digest(fresh.stderr) == image_digest(first.stderr)
