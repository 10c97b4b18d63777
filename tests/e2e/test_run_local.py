"""`cog run --local` / `cog predict --local` / `cog serve --local`: the runtime on the host."""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from cog_cli import run_cog
from cog_server_harness import FIXTURES, free_port


def environ_without_cog_settings():
    """This process's environment less the COG_ variables a caller may have set (the *_BIN paths stay)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COG_") or k.endswith("_BIN")}


def cog(cog_bin, cwd, *args, stdin=None):
    """cog in `cwd`, `stdin` its input; the caller checks the exit code."""
    return run_cog(cog_bin, *args, cwd=cwd, check=False, base_env=environ_without_cog_settings(), timeout=180,
                   input=stdin)


@pytest.fixture
def project(tmp_path):
    def copy(fixture):
        target = tmp_path / fixture
        shutil.copytree(FIXTURES / fixture, target)
        return target

    return copy


def test_readme_hello_example(cog_bin, source_dir):
    result = cog(cog_bin, source_dir / "examples" / "hello", "run", "--local", "-i", "name=world")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello world\n"


def test_predict_alias_is_deprecated(cog_bin, project):
    result = cog(cog_bin, project("hello"), "predict", "--local", "-i", "name=alias")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello alias\n"
    assert '"cog predict" is deprecated, use "cog run"' in result.stderr


def test_runs_from_a_subdirectory(cog_bin, project):
    directory = project("hello")
    (directory / "sub" / "deeper").mkdir(parents=True)
    result = cog(cog_bin, directory / "sub" / "deeper", "run", "--local")
    assert (result.returncode, result.stdout) == (0, "hello world\n"), result.stderr


def test_json_mode(cog_bin, project):
    result = cog(cog_bin, project("hello"), "run", "--local", "--json", '{"name": "sackfield"}')
    assert result.returncode == 0, result.stderr
    assert '"output": "hello sackfield"' in result.stdout
    parsed = json.loads(result.stdout)
    assert list(parsed) == ["status", "output", "error", "metrics"]
    assert parsed["status"] == "succeeded" and parsed["error"] == ""


def test_json_from_stdin(cog_bin, project):
    result = cog(cog_bin, project("hello"), "run", "--local", "--json", "-", stdin='{"name": "stdin"}')
    assert json.loads(result.stdout)["output"] == "hello stdin", result.stderr


def test_file_output_is_written(cog_bin, project):
    directory = project("output_path")
    result = cog(cog_bin, directory, "run", "--local", "-i", "text=file contents")
    assert result.returncode == 0, result.stderr
    assert (directory / "output.txt").read_text() == "file contents"
    assert "Written output to: output.txt" in result.stderr
    assert result.stdout == ""
    result = cog(cog_bin, directory, "run", "--local", "-o", "custom.txt")
    assert (directory / "custom.txt").read_text() == "hello"


def test_list_of_files_is_numbered(cog_bin, project):
    directory = project("output_paths")
    result = cog(cog_bin, directory, "run", "--local")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in directory.glob("output.*"))
    assert written and written[0].startswith("output.0")


def test_non_string_output_is_indented_json(cog_bin, project):
    result = cog(cog_bin, project("output_iterator"), "run", "--local", "-i", "count=2")
    assert result.returncode == 0, result.stderr
    assert result.stdout == '[\n  "item 0",\n  "item 1"\n]\n'


def test_failed_prediction_exits_1(cog_bin, project):
    result = cog(cog_bin, project("raises"), "run", "--local")
    assert result.returncode == 1
    assert 'Prediction failed with status "failed": ValueError: this is a value error' in result.stderr


def test_preflight_validation_messages(cog_bin, project):
    directory = project("hello")
    result = cog(cog_bin, directory, "run", "--local", "-i", "nope=1")
    assert result.returncode == 1
    assert 'unknown input "nope"; valid inputs are: name' in result.stderr
    result = cog(cog_bin, directory, "run", "--local", "-i", "novalue")
    assert result.returncode == 1
    assert "Failed to parse input 'novalue', expected format is 'name=value'" in result.stderr
    result = cog(cog_bin, project("many_inputs"), "run", "--local", "-i", "no_default=x")
    assert result.returncode == 1
    assert "input validation failed:" in result.stderr
    assert 'missing required input "path"' in result.stderr


def test_type_coercion_and_files(cog_bin, project):
    directory = project("input_types")
    (directory / "picture.txt").write_text("pixels")
    result = cog(cog_bin, directory, "run", "--local", "-i", "text=abc", "-i", "image=@picture.txt", "-i", "count=3",
                 "-i", "ratio=1", "-i", "flag=true", "-i", "tags=x", "-i", "tags=y", "-i", "mixed=7")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["count"] == 3 and output["flag"] is True and output["image"] == "pixels"
    assert output["tags"] == ["x", "y"] and output["mixed"] == 7
    result = cog(cog_bin, directory, "run", "--local", "-i", "text=abc", "-i", "image=@picture.txt",
                 "-i", "count=many")
    assert result.returncode == 1
    assert 'invalid input "count": expected integer, got string' in result.stderr


def test_setup_failure(cog_bin, project):
    result = cog(cog_bin, project("setup_fails"), "run", "--local")
    assert result.returncode == 1
    assert "Model setup failed" in result.stderr
    assert "setup exploded" in result.stderr


def test_no_project(cog_bin, tmp_path):
    result = cog(cog_bin, tmp_path, "run", "--local")
    assert result.returncode == 1
    assert "cog.yaml not found in" in result.stderr


def test_other_python_version_is_refused(cog_bin, project, tmp_path):
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho \'{"version": "2.7", "paths": []}\'\n')
    fake.chmod(0o755)
    result = cog(cog_bin, project("hello"), "run", "--local", "--python", str(fake))
    assert result.returncode == 1
    assert "is Python 2.7, but cog-worker embeds Python 3." in result.stderr


def test_serve_local(cog_bin, project):
    port = free_port()
    process = subprocess.Popen([str(cog_bin), "serve", "--local", "-p", str(port)], cwd=project("hello"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environ_without_cog_settings())
    try:
        deadline = time.monotonic() + 60
        health = {}
        while time.monotonic() < deadline and health.get("status") != "READY":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health-check", timeout=2) as response:
                    health = json.loads(response.read())
            except OSError:
                time.sleep(0.1)
        assert health.get("status") == "READY"
        request = urllib.request.Request(f"http://127.0.0.1:{port}/predictions", data=b'{"input":{"name":"serve"}}',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read())["output"] == "hello serve"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert f"Serving at http://localhost:{port}" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
