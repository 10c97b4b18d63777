"""`cog debug` on invalid cog.yaml files: exit code 1 and the located message on stderr; project
discovery from a subdirectory; `-f` picking another file."""
import pathlib
import subprocess

import pytest

RUN_PY = "class Runner:\n    def run(self) -> str:\n        return 'hi'\n"
BUILD = 'build:\n  python_version: "3.12"\n'

INVALID = [
    pytest.param("", "cog.yaml:1:1: invalid build.python_version: python_version is required", id="empty"),
    pytest.param('build:\n  python_version: "3.9"\n',
                 'cog.yaml:2:19: invalid build.python_version "3.9": minimum supported Python version is 3.10',
                 id="old-python"),
    pytest.param('build:\n  python_version: "3"\n',
                 "must include major and minor version (e.g., '3.11')", id="python-major-only"),
    pytest.param(BUILD + "  python_pakages:\n    - torch\n",
                 'cog.yaml:3:3: unknown field "python_pakages" under build — did you mean "python_packages"?',
                 id="typo"),
    pytest.param(BUILD + "  gpu: yes\n", 'cog.yaml:3:8: schema error in "build.gpu": must be a boolean',
                 id="gpu-type"),
    pytest.param(BUILD + "run: run.py:Runner\npredict: run.py:Runner\n",
                 "cog.yaml:4:1: only one of run or predict can be set", id="run-and-predict"),
    pytest.param(BUILD + "run: run.py\n", "cog.yaml:3:6: invalid run \"run.py\": must be in the form 'run.py:Runner'",
                 id="run-form"),
    pytest.param(BUILD + "run: run.py:Predictor\n", 'run.py does not define "Predictor"', id="run-name"),
    pytest.param(BUILD + "environment:\n  - PATH=/x\n",
                 'cog.yaml:4:5: environment variable "PATH" is not allowed: reserved for internal use',
                 id="env-reserved"),
    pytest.param(BUILD + "environment:\n  - NOVALUE\n",
                 'environment variable "NOVALUE" is not in the KEY=VALUE format', id="env-format"),
    pytest.param(BUILD + "  python_requirements: missing.txt\n",
                 'cog.yaml:3:24: invalid build.python_requirements "missing.txt": file does not exist',
                 id="requirements-missing"),
    pytest.param(BUILD + "  run:\n    - |\n      a\n      b\n",
                 "One of the commands in 'run' contains a new line, which won't work.", id="run-newline"),
    pytest.param(BUILD + "  cuda: \"10.2\"\n", "minimum supported CUDA version is 11", id="cuda-old"),
    pytest.param("build:\n  python_version: '3.10'\nconcurrency:\n  max: 2\n",
                 "concurrency requires Python 3.11 or higher", id="concurrency-python"),
    pytest.param("build: [1, 2\n", "cog.yaml:2:1: failed to parse cog.yaml: invalid YAML", id="yaml-syntax"),
]


def make_project(root: pathlib.Path, cog_yaml: str) -> pathlib.Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "run.py").write_text(RUN_PY)
    (root / "cog.yaml").write_text(cog_yaml)
    return root


def cog_debug(cog_bin, cwd, *args):
    return subprocess.run([str(cog_bin), "debug", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "COG_NO_UPDATE_CHECK": "1"})


@pytest.mark.parametrize("cog_yaml,message", INVALID)
def test_invalid_cog_yaml_fails_with_located_message(cog_bin, tmp_path, cog_yaml, message):
    project = make_project(tmp_path / "project", cog_yaml)
    result = cog_debug(cog_bin, project)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "cog: error: " in result.stderr
    assert result.stdout == ""


def test_all_errors_are_reported_at_once(cog_bin, tmp_path):
    project = make_project(tmp_path / "project", 'build:\n  python_version: "3.9"\n  gpu: 1\nfoo: bar\n')
    result = cog_debug(cog_bin, project)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("cog: error: ")]
    assert len(errors) == 3, result.stderr
    assert errors[0].startswith("cog: error: cog.yaml:2:19:")
    assert errors[1].startswith("cog: error: cog.yaml:3:8:")
    assert errors[2].startswith("cog: error: cog.yaml:4:1:")


def test_deprecations_are_warnings_not_errors(cog_bin, tmp_path):
    project = make_project(tmp_path / "project", BUILD + "predict: run.py:Runner\n")
    result = cog_debug(cog_bin, project)
    assert 'deprecated field "predict": use "run" instead' in result.stderr
    assert "cog: error:" not in result.stderr


def test_subdirectory_finds_the_parent_cog_yaml(cog_bin, tmp_path):
    project = make_project(tmp_path / "project", BUILD + "  gpu: nope\n")
    nested = project / "a" / "b"
    nested.mkdir(parents=True)
    result = cog_debug(cog_bin, nested)
    assert result.returncode == 1
    assert 'cog.yaml:3:8: schema error in "build.gpu": must be a boolean' in result.stderr


def test_no_cog_yaml_anywhere(cog_bin, tmp_path):
    result = cog_debug(cog_bin, tmp_path, "-f", "no-such-cog-config.yaml")
    assert result.returncode == 1
    assert f"no-such-cog-config.yaml not found in {tmp_path} (or in any parent directories)" in result.stderr


def test_dash_f_picks_another_file(cog_bin, tmp_path):
    project = make_project(tmp_path / "project", BUILD + "run: run.py:Runner\n")
    (project / "other.yaml").write_text("build:\n  python_version: '3.8'\n")
    result = cog_debug(cog_bin, project, "-f", "other.yaml")
    assert result.returncode == 1
    assert 'other.yaml:2:19: invalid build.python_version "3.8": minimum supported Python version is 3.10' \
        in result.stderr
