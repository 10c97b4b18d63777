"""Python from a python-build-standalone archive (COG_PYTHON_STANDALONE), for a python_version no Debian
release offers: 3.12 here. The archives themselves are not reachable from this machine (GitHub), so the
test makes one of the same shape from this machine's pyenv 3.12 build: its install tree under python/,
the interpreter's RUNPATH made relative ($ORIGIN/../lib) as python-build-standalone's is, and named as
its releases are. The image then has no Debian Python at all: the prediction runs on the archive's."""
import functools
import glob
import http.server
import io
import os
import pathlib
import shutil
import subprocess
import tarfile
import threading

import pytest

from cog_cli import image_digest, make_project, run_cog as cog, tags_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

# cog-base's package layer (test_cog_base.py) is not what these builds are about; over the
# Python-less base it would be another ~2 GB layer of its own.
NO_COG_BASE = "--use-cog-base-image=false"

RUN_PY = '''import os
import sys

import tomli_w
from cog import BaseRunner, Input

type Name = str  # 3.12 syntax: the schema must come from the image's Python, not this machine's 3.11


class Runner(BaseRunner):
    def run(self, name: str = Input(default="world", description="who to greet")) -> str:
        debian = os.path.exists("/usr/bin/python3")
        return f"hello {name} from {sys.version.split()[0]} in {sys.prefix}, debian python: {debian}, " + tomli_w.dumps({"a": 1}).strip()
'''

COG_YAML = 'build:\n  python_version: "3.12"\n  python_packages:\n    - "tomli-w==1.0.0"\nrun: "run.py:Runner"\n'

RELEASE = "20240107"

# cog's cache root is $XDG_CACHE_HOME/cog (scripts/test.sh gives the suite a private one), else ~/.cache/cog.
CACHE_HOME = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")


def pyenv_312():
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12.*")))
    found = [path for path in found if os.path.exists(os.path.join(path, "lib", "libpython3.12.so.1.0"))]
    return pathlib.Path(found[-1]) if found else None


def archive_name(version, release=RELEASE):
    return f"cpython-{version}+{release}-x86_64-unknown-linux-gnu-install_only.tar.gz"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """An install_only-shaped archive of this machine's pyenv 3.12, cached between runs."""
    source = pyenv_312()
    if source is None or shutil.which("patchelf") is None:
        pytest.skip("needs a pyenv 3.12 build with a shared libpython and patchelf (scripts/install-deps.sh)")
    version = source.name
    cache = CACHE_HOME / "cog-test" / "python-standalone"
    file = cache / archive_name(version)
    if not file.exists():
        work = tmp_path_factory.mktemp("pbs")
        tree = work / "python"
        skip = shutil.ignore_patterns("test", "idlelib", "tkinter", "turtledemo", "__pycache__", "libpython*.a",
                                      "_sandboxing_*.pth")
        shutil.copytree(source, tree, symlinks=True, ignore=skip)
        subprocess.run(["patchelf", "--set-rpath", "$ORIGIN/../lib", str(tree / "bin" / "python3.12")], check=True)
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / (file.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=1) as out:
            out.add(tree, arcname="python")
        partial.rename(file)
    return file


tags = tags_fixture("cog-e2e-pbs")


@pytest.fixture(scope="module")
def built(cog_bin, archive, tmp_path_factory, tags):
    """The 3.12 project built twice with the archive's directory configured: (tag, version, first, second)."""
    project = make_project(tmp_path_factory.mktemp("pbs-project") / "p", RUN_PY, COG_YAML)
    env = {"COG_PYTHON_STANDALONE": str(archive.parent)}
    tag = tags()
    first = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project, env=env)
    second = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project, env=env)
    return tag, archive.name.split("-")[1].split("+")[0], first, second


def test_the_prediction_runs_on_the_archives_python(cog_bin, built, tmp_path):
    tag, version, first, second = built
    assert f"Python {version} from {archive_name(version)}" in first.stderr, first.stderr
    # The first build prints the base only when an earlier build cached it; the second always does.
    assert "CACHED debian bookworm base (no Python)" in second.stderr, second.stderr
    assert f"SCHEMA with the image's Python {version}" in first.stderr
    assert "cog-worker for Python 3.12 (python-build-standalone)" in first.stderr
    result = cog(cog_bin, "run", tag, "-i", "name=pbs", cwd=tmp_path)
    assert result.stdout == f"hello pbs from {version} in /usr/local, debian python: False, a = 1\n"


def test_cog_exec_gets_the_archives_python_as_python(cog_bin, built, archive, tmp_path):
    _, version, _, _ = built
    project = make_project(tmp_path / "p", RUN_PY, COG_YAML)
    result = cog(cog_bin, "exec", NO_COG_BASE, "--", "python", "-c",
                 "import sys, tomli_w, cog; print(sys.executable, sys.version.split()[0], cog.__name__)",
                 cwd=project, env={"COG_PYTHON_STANDALONE": str(archive.parent)})
    assert result.stdout.split() == ["/usr/local/bin/python", version, "cog"], result.stderr


def test_a_second_build_reuses_python_and_worker(built):
    _, version, first, second = built
    assert f"CACHED python {version}" in second.stderr, second.stderr
    assert "CACHED cog-worker for Python 3.12 (python-build-standalone)" in second.stderr
    assert image_digest(second.stderr) == image_digest(first.stderr), "the same inputs give the same image"


def test_an_archive_from_a_url_is_downloaded_once(cog_bin, built, archive, tmp_path, tags):
    """Served over HTTP under another release name: fetched into the cache, then the same layers."""
    _, version, first, _ = built
    name = archive_name(version, "20990101")
    served = tmp_path / "served"
    served.mkdir()
    os.link(archive, served / name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cached = CACHE_HOME / "cog" / "python-archives" / name  # where cog downloads it (its cache root)
    cached.unlink(missing_ok=True)  # left by an interrupted run, it would make the FETCH below a no-op
    try:
        url = f"http://127.0.0.1:{server.server_port}/{name.replace('+', '%2B')}"
        project = make_project(tmp_path / "p", RUN_PY, COG_YAML)
        build = cog(cog_bin, "build", NO_COG_BASE, "-t", tags(), cwd=project, env={"COG_PYTHON_STANDALONE": url})
        assert f"FETCH {url}" in build.stderr
        assert cached.exists()
        assert f"CACHED python {version}" in build.stderr, "the layer is keyed by content, not by name"
        assert "CACHED cog-worker for Python 3.12 (python-build-standalone)" in build.stderr
        server.shutdown()
        again = cog(cog_bin, "build", NO_COG_BASE, "-t", tags(), cwd=project, env={"COG_PYTHON_STANDALONE": url})
        assert "FETCH" not in again.stderr
    finally:
        server.shutdown()
        cached.unlink(missing_ok=True)


def test_without_a_matching_archive_the_error_names_every_source(cog_bin, archive, tmp_path, tags):
    project = make_project(tmp_path / "p", RUN_PY, COG_YAML.replace('"3.12"', '"3.10"'))
    result = cog(cog_bin, "build", NO_COG_BASE, "-t", tags(), cwd=project, env={"COG_PYTHON_STANDALONE": str(archive.parent)},
                 check=False)
    assert result.returncode == 1
    assert "Python 3.10 is not available" in result.stderr
    assert "3.11 (Debian bookworm), 3.13 (Debian trixie)" in result.stderr
    assert "COG_PYTHON_STANDALONE offers 3.12" in result.stderr
    unset = cog(cog_bin, "build", NO_COG_BASE, "-t", tags(), cwd=project, env={"COG_PYTHON_STANDALONE": ""}, check=False)
    assert unset.returncode == 1
    assert "COG_PYTHON_STANDALONE (python-build-standalone archives) is not set" in unset.stderr


def test_a_hostile_archive_is_refused_before_anything_is_built(cog_bin, tmp_path, tags):
    evil = tmp_path / "archives" / archive_name("3.12.1", "evil")
    evil.parent.mkdir()
    with tarfile.open(evil, "w:gz") as out:
        for name, data in (("python/bin/python3", b"#!/bin/sh\n"), ("etc/cron.d/evil", b"* * * * * root true\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    project = make_project(tmp_path / "p", RUN_PY, COG_YAML)
    result = cog(cog_bin, "build", NO_COG_BASE, "-t", tags(), cwd=project, env={"COG_PYTHON_STANDALONE": str(evil)}, check=False)
    assert result.returncode == 1
    assert "\"etc\" is outside the archive's python/ directory" in result.stderr, result.stderr
    assert "Image built as" not in result.stderr
