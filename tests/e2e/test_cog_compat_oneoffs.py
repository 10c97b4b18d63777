"""Issue #13, class 7's remaining one-offs, each driven through the built `cog` as a user would:
union-typed inputs (CLI coercion, HTTP validation, schema), local requirement artifacts whose names
hold spaces and zip sdists, setup() output shown by `cog train` as by `cog run`, and
COG_SDK_WHEEL / COGLET_WHEEL. Builds use --use-cog-base-image=false: cog-base's packages are not
what these tests are about (test_cog_base.py is). Needs root for the image builds."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from cog_cli import make_project, run_cog as cog, stored_image, tags_fixture
from registry_helpers import free_port

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

tags = tags_fixture("cog-e2e-oneoffs")

# --- union-typed inputs -------------------------------------------------------------------------------

UNION_RUN_PY = '''from typing import Optional, Union

from cog import BaseRunner, Input


class Runner(BaseRunner):
    def run(self, a: int | str, b: Union[int, float] = 1.5, c: Optional[Union[int, str]] = None,
            d: Union[str, int, None] = Input(default=None, description="d")) -> str:
        return repr((a, b, c, d))
'''


@pytest.mark.parametrize("inputs, printed", [
    (["a=5"], "(5, 1.5, None, None)"),              # an integer where the union takes one
    (["a=abc"], "('abc', 1.5, None, None)"),        # else the string
    (["a=1.5"], "('1.5', 1.5, None, None)"),        # a float is no int: the str member keeps it
    (["a=5", "b=2"], "(5, 2, None, None)"),         # int | float: an int stays an int
    (["a=5", "b=2.5", "c=7", "d=x"], "(5, 2.5, 7, 'x')"),
    (["a=5", "c=hi", "d=3"], "(5, 1.5, 'hi', 3)"),  # Optional unions
])
def test_union_inputs_from_the_cli(cog_bin, tmp_path, inputs, printed):
    project = make_project(tmp_path / "union", UNION_RUN_PY)
    args = [arg for value in inputs for arg in ("-i", value)]
    result = cog(cog_bin, "run", "--local", *args, cwd=project)
    assert result.stdout == printed + "\n", result.stderr


def test_a_union_input_no_member_takes_is_named(cog_bin, tmp_path):
    project = make_project(tmp_path / "union", UNION_RUN_PY)
    result = cog(cog_bin, "run", "--local", "-i", "a=1", "-i", "b=abc", cwd=project, check=False)
    assert result.returncode == 1
    assert 'invalid input "b"' in result.stderr and "anyOf" in result.stderr, result.stderr


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_union_inputs_over_http_and_their_schema(cog_bin, tmp_path):
    project = make_project(tmp_path / "union", UNION_RUN_PY)
    port = free_port()
    server = subprocess.Popen([str(cog_bin), "serve", "--local", "-p", str(port)], cwd=project,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/health-check", timeout=5) as response:
                    if json.loads(response.read())["status"] == "READY":
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.time() < deadline and server.poll() is None, "cog serve --local never became ready"
            time.sleep(0.2)
        with urllib.request.urlopen(url + "/openapi.json", timeout=30) as response:
            properties = json.loads(response.read())["components"]["schemas"]["Input"]
        assert properties["required"] == ["a"]
        a, c = properties["properties"]["a"], properties["properties"]["c"]
        assert a == {"anyOf": [{"type": "integer"}, {"type": "string"}], "title": "A", "x-order": 0}
        assert c["anyOf"] == [{"type": "integer"}, {"type": "string"}] and c["nullable"] is True

        assert post(url + "/predictions", {"input": {"a": 5}})[1]["output"] == "(5, 1.5, None, None)"
        assert post(url + "/predictions", {"input": {"a": "x", "b": 3}})[1]["output"] == "('x', 3, None, None)"
        status, body = post(url + "/predictions", {"input": {"a": 1.5}})
        assert status == 422 and body["detail"][0]["loc"] == ["body", "input", "a"], body
        assert "anyOf" in body["detail"][0]["msg"]
        # Explicit null is refused for an Optional union too, as Cog's validation does.
        status, body = post(url + "/predictions", {"input": {"a": 5, "c": None}})
        assert status == 422 and body["detail"][0]["loc"] == ["body", "input", "c"], body
    finally:
        server.terminate()
        server.wait(timeout=60)


# --- local artifacts: spaces in names, zip sdists -----------------------------------------------------

ARTIFACT_RUN_PY = '''import mypkg
import otherpkg
from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return mypkg.hello() + " / " + otherpkg.hello()
'''


def write_zip_sdist(path, name):
    """A zip sdist of a setuptools project `name` 1.0, whose hello() says where it comes from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0/pyproject.toml",
                         '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
                         f'[project]\nname = "{name}"\nversion = "1.0"\n')
        archive.writestr(f"{name}-1.0/{name}/__init__.py", f'def hello():\n    return "hi from {name}"\n')


@needs_root
def test_local_zip_sdists_with_spaces_in_their_names(cog_bin, tmp_path, tags):
    project = make_project(tmp_path / "artifacts", ARTIFACT_RUN_PY, cog_yaml=(
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\nrun: "run.py:Runner"\n'))
    write_zip_sdist(project / "pkgs" / "my pkg-1.0.zip", "mypkg")
    write_zip_sdist(project / "dist" / "otherpkg-1.0.zip", "otherpkg")
    (project / "requirements.txt").write_text("./pkgs/my pkg-1.0.zip\ndist/otherpkg-1.0.zip\n")
    tag = tags()
    cog(cog_bin, "build", "-t", tag, "--use-cog-base-image=false", "--progress", "quiet", cwd=project)
    result = cog(cog_bin, "run", tag, cwd=tmp_path)
    assert result.stdout == "hi from mypkg / hi from otherpkg\n", result.stderr


def test_a_spaced_name_that_is_no_file_is_still_refused(cog_bin, tmp_path):
    project = make_project(tmp_path / "artifacts", ARTIFACT_RUN_PY, cog_yaml=(
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\nrun: "run.py:Runner"\n'))
    (project / "requirements.txt").write_text("./pkgs/no such-1.0.zip\n")
    result = cog(cog_bin, "debug", cwd=project, check=False)
    assert result.returncode == 1 and "requirements.txt:1" in result.stderr, result.stderr


# --- setup() output: cog train shows it as cog run does ---------------------------------------------

SETUP_RUN_PY = '''from cog import BaseRunner


class Runner(BaseRunner):
    def setup(self):
        print("runner setup says hi")

    def run(self, x: int = 1) -> int:
        return x
'''

SETUP_TRAIN_PY = '''from cog import BaseRunner


class Trainer(BaseRunner):
    def setup(self):
        print("trainer setup says hi")

    def train(self, x: int = 1) -> int:
        return x
'''


def setup_project(directory):
    project = make_project(directory, SETUP_RUN_PY, cog_yaml=(
        'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\ntrain: "train.py:Trainer"\n'))
    (project / "train.py").write_text(SETUP_TRAIN_PY)
    return project


def test_setup_output_is_shown_by_run_and_train_on_the_host(cog_bin, tmp_path):
    project = setup_project(tmp_path / "setup")
    run = cog(cog_bin, "run", "--local", cwd=project)
    train = cog(cog_bin, "train", "--local", cwd=project)
    assert "runner setup says hi\n" in run.stderr and run.stdout == "1\n", run.stderr
    assert "trainer setup says hi\n" in train.stderr and train.stdout == "1\n", train.stderr
    # The worker's own trace line stays in the health-check's setup.logs, off the terminal.
    assert "File descriptor redirection" not in run.stderr + train.stderr


# --- COG_SDK_WHEEL / COGLET_WHEEL --------------------------------------------------------------------

@pytest.mark.parametrize("variable", ["COG_SDK_WHEEL", "COGLET_WHEEL"])
@pytest.mark.parametrize("command", ["build", "debug"])
def test_a_wheel_path_that_does_not_exist_is_named(cog_bin, tmp_path, variable, command):
    project = setup_project(tmp_path / "wheel")
    missing = tmp_path / "nowhere" / "cog-0.0.1-py3-none-any.whl"
    result = cog(cog_bin, command, cwd=project, env={variable: str(missing)}, check=False)
    assert result.returncode == 1
    assert "path not found" in result.stderr and str(missing) in result.stderr and variable in result.stderr, \
        result.stderr


def test_debug_copies_a_local_sdk_wheel_as_cog_would(cog_bin, tmp_path):
    project = setup_project(tmp_path / "wheel")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "cog-0.99.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    (wheels / "coglet-0.99.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    result = cog(cog_bin, "debug", cwd=project, env={"COG_SDK_WHEEL": str(wheels), "COGLET_WHEEL": ""})
    assert "/tmp/cog-0.99.0-py3-none-any.whl" in result.stdout, result.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = cog(cog_bin, "debug", cwd=project, env={"COG_SDK_WHEEL": str(empty)}, check=False)
    assert refused.returncode == 1 and "no cog-*.whl in " + str(empty) in refused.stderr, refused.stderr


@needs_root
def test_debug_build_says_which_runtime_and_train_in_an_image_shows_setup_output(cog_bin, tmp_path, tags):
    project = setup_project(tmp_path / "image")
    tag = tags()
    built = cog(cog_bin, "--debug", "build", "-t", tag, "--use-cog-base-image=false", "--progress", "plain",
                cwd=project, env={"COG_SDK_WHEEL": "", "COGLET_WHEEL": ""})
    # Unset, the image runs our runtime (set, Cog's: test_cog_wheels.py).
    for variable in ("COG_SDK_WHEEL", "COGLET_WHEEL"):
        assert f"{variable} is not set: the image runs this cog's own runtime" in built.stderr, built.stderr
    assert stored_image(tag)[1]["config"]["Cmd"] == ["/opt/cog/bin/cog-server"]
    run = cog(cog_bin, "run", tag, cwd=tmp_path)
    train = cog(cog_bin, "train", tag, cwd=tmp_path)
    assert "runner setup says hi\n" in run.stderr and run.stdout == "1\n", run.stderr
    assert "trainer setup says hi\n" in train.stderr and train.stdout == "1\n", train.stderr


# --- Python 3.13 (Debian trixie) images have a working ssl -------------------------------------------

SSL_RUN_PY = '''import ssl
import urllib.request

from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return ssl.OPENSSL_VERSION.split()[0] + " " + str(urllib.request.HTTPSHandler is not None)
'''


@needs_root
def test_python_313_images_import_ssl(cog_bin, tmp_path, tags):
    # Our runtime's libraries (/opt/cog/lib, first for everything the worker loads) held the build
    # machine's libcrypto.so.3 (OpenSSL 3.0), which shadowed trixie's: `import ssl` failed with
    # "version `OPENSSL_3.3.0' not found". A library the image has is no longer shipped.
    project = make_project(tmp_path / "ssl", SSL_RUN_PY,
                           cog_yaml='build:\n  python_version: "3.13"\nrun: "run.py:Runner"\n')
    tag = tags()
    cog(cog_bin, "build", "-t", tag, "--use-cog-base-image=false", "--progress", "quiet", cwd=project)
    result = cog(cog_bin, "run", tag, cwd=tmp_path)
    assert result.stdout == "OpenSSL True\n", result.stderr


@pytest.mark.parametrize("args", [["weights"], ["build", "--no-such-flag"], ["run", "--setup-timeout", "soon"],
                                  ["no-such-command"]])
def test_usage_errors_exit_1_as_cogs_do(cog_bin, tmp_path, args):
    # Cog's CLI (cobra) exits 1 on any usage error; CLI11's own codes (105-109) are not Cog's.
    result = cog(cog_bin, *args, cwd=tmp_path, check=False)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.strip(), "a usage error says what was wrong"


def test_help_still_exits_0(cog_bin, tmp_path):
    result = cog(cog_bin, "weights", "--help", cwd=tmp_path)
    assert "import" in result.stdout
