"""Shared helpers for the SDK unit tests: fixture predictors and scratch runner modules."""
import os
import pathlib
import sys
import textwrap
import uuid

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COG_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
FIXTURES = SOURCE_DIR / "tests" / "fixtures" / "predictors"
GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"

if str(SOURCE_DIR / "runtime" / "python") not in sys.path:
    sys.path.insert(0, str(SOURCE_DIR / "runtime" / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
pytest_plugins = ["cog_test_report"]  # skips listed at the suite's end (tests/cog_test_report.py)


@pytest.fixture(autouse=True)
def _keep_cwd():
    # Runner() makes the project the working directory, as Cog does with /src.
    cwd = os.getcwd()
    yield
    os.chdir(cwd)


@pytest.fixture
def make_runner(tmp_path):
    """Write ``source`` to a uniquely named module and load it as a Runner."""
    from cog._worker import Runner

    def build(source: str, name: str = "Runner", mode: str = "predict"):
        stem = f"runner_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{stem}.py").write_text(textwrap.dedent(source))
        return Runner(f"{stem}.py:{name}" if name else f"{stem}.py", mode, str(tmp_path))

    return build


def fixture_ref(name: str, key: str = "run") -> str:
    for line in (FIXTURES / name / "cog.yaml").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise KeyError(f"{name} has no {key} ref")


def fixture_runner(name: str, key: str = None):
    from cog._worker import Runner

    for candidate in ([key] if key else ["run", "predict", "train"]):
        try:
            ref = fixture_ref(name, candidate)
        except KeyError:
            continue
        return Runner(ref, "train" if candidate == "train" else "predict", str(FIXTURES / name))
    raise KeyError(name)
