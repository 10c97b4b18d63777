"""python_requirements naming a local wheel (./dist/x.whl): the pip step sees it, the layer is keyed on
its content, and the image imports it. The wheel is built here with `pip wheel`. Needs root."""
import os
import subprocess

import pytest

from cog_cli import run_cog as cog, tag_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

RUN_PY = '''import tinygreet
from cog import BaseRunner


class Runner(BaseRunner):
    def run(self, name: str = "world") -> str:
        return tinygreet.greet(name)
'''


def build_wheel(project, greeting):
    package = project.parent / f"tinygreet-src-{greeting}"
    package.mkdir()
    (package / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\n'
                                            'build-backend = "setuptools.build_meta"\n\n'
                                            '[project]\nname = "tinygreet"\nversion = "0.1.0"\n')
    (package / "tinygreet.py").write_text(f'def greet(name):\n    return "{greeting} " + name\n')
    wheel = project / "dist/tinygreet-0.1.0-py3-none-any.whl"
    wheel.unlink(missing_ok=True)
    subprocess.run(["/usr/bin/python3", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(project / "dist"), str(package)], check=True, capture_output=True)
    assert wheel.exists()


tag = tag_fixture("cog-e2e-artifacts")


def test_a_local_wheel_is_installed_and_keys_the_pip_layer(cog_bin, tmp_path, tag):
    project = tmp_path / "app"
    project.mkdir()
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\n'
                                      'run: "run.py:Runner"\n')
    (project / "requirements.txt").write_text("./dist/tinygreet-0.1.0-py3-none-any.whl\n")
    (project / "run.py").write_text(RUN_PY)
    build_wheel(project, "tiny")
    first = cog(cog_bin, "build", "-t", tag, cwd=project)
    assert "pip install" in first.stderr
    assert cog(cog_bin, "run", tag, "-i", "name=wheel", cwd=project).stdout == "tiny wheel\n"

    # Same file name and requirements, new content: the pip layer is rebuilt, not taken from the cache.
    build_wheel(project, "rebuilt")
    second = cog(cog_bin, "build", "-t", tag, cwd=project)
    assert "CACHED pip install" not in second.stderr, second.stderr
    assert cog(cog_bin, "run", tag, "-i", "name=wheel", cwd=project).stdout == "rebuilt wheel\n"
