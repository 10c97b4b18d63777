"""Running the built `cog` binary from end-to-end tests, reading what its builds leave in the local
image store, and naming and removing the images a test makes.

    from cog_cli import run_cog as cog

    def test_something(cog_bin, tmp_path):
        result = cog(cog_bin, "build", "-t", "name", cwd=tmp_path)   # raises if cog fails
        digest = image_digest(result.stderr)
"""
import json
import os
import pathlib
import re
import subprocess
import time
import urllib.request
import uuid

import pytest


def run_cog(cog_bin, *args, cwd=None, check=True, env=None, base_env=None, timeout=900, input=None, stdin=None):
    """Runs `cog ARGS` in `cwd` and returns the CompletedProcess, stdout and stderr captured as text.

    The environment is `base_env` as given (the whole of it), or else this process's with
    SOURCE_DATE_EPOCH=0 so that builds are reproducible; `env` is set on top of either. `input` is
    text for cog's stdin; without it, `stdin` (e.g. subprocess.DEVNULL) or this process's stdin.
    With `check`, a non-zero exit raises AssertionError with the command, exit code and output."""
    run_env = dict({**os.environ, "SOURCE_DATE_EPOCH": "0"} if base_env is None else base_env)
    run_env.update(env or {})
    command = [str(cog_bin), *map(str, args)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=run_env, timeout=timeout,
                            input=input, stdin=stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"cog {' '.join(command[1:])} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def predict_when_served(port, inputs, tries=300):
    """POSTs `inputs` to the `cog serve` starting on `port` until a prediction succeeds (0.2 s
    apart, `tries` times); returns the last answer, None when none came."""
    body = None
    for _ in range(tries):
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/predictions",
                                             data=json.dumps({"input": inputs}).encode(),
                                             headers={"Content-Type": "application/json"})
            body = json.loads(urllib.request.urlopen(request, timeout=5).read())
            if body.get("status") == "succeeded":
                break
        except OSError:
            pass
        time.sleep(0.2)
    return body


def run_cog_with(cog_bin, env, *args, check=True, cwd=None, stdin=None):
    """run_cog with exactly the environment `env` and a 3-minute limit, as the registry tests use it
    (a private HOME, DOCKER_CONFIG and image store per test); `stdin` is text for cog's stdin."""
    return run_cog(cog_bin, *args, cwd=cwd, check=check, base_env=env, timeout=180, input=stdin)


def private_env(tmp_path, **extra):
    """This process's environment with a HOME (so docker config and credentials) and an image store of
    its own under tmp_path, and no update check: the registry tests' environment for run_cog_with."""
    home = tmp_path / "home"
    home.mkdir()
    return {**os.environ, "HOME": str(home), "DOCKER_CONFIG": str(home / ".docker"),
            "COG_IMAGE_STORE": str(tmp_path / "store"), "COG_NO_UPDATE_CHECK": "1", **extra}


def image_digest(stderr: str) -> str:
    """The manifest digest from cog build's "Image built as NAME (sha256:...; ...)" line."""
    match = re.search(r"Image built as \S+ \((sha256:[0-9a-f]{64});", stderr)
    assert match, stderr
    return match.group(1)


def pushed_digest(stderr: str) -> str:
    """The manifest digest from cog push's last "Pushed NAME@sha256:..." line."""
    return [line for line in stderr.splitlines() if line.startswith("Pushed ")][-1].rsplit("@", 1)[1]


# --- projects --------------------------------------------------------------------------------------

# Python 3.11 (the one the worker embeds) and the Runner class in run.py.
DEFAULT_COG_YAML = 'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n'


def make_project(directory, run_py, cog_yaml=DEFAULT_COG_YAML):
    """A project directory (made with its parents) holding cog.yaml and run.py."""
    directory.mkdir(parents=True)
    (directory / "cog.yaml").write_text(cog_yaml)
    (directory / "run.py").write_text(run_py)
    return directory


# --- the local image store (an OCI layout) ---------------------------------------------------------

def store_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get("XDG_DATA_HOME", pathlib.Path.home() / ".local/share")) / "cog/images"


def store_ref(tag: str) -> str:
    """The store image `tag` (with no tag of its own: :latest) as a skopeo/containers reference."""
    return f"oci:{store_root()}:{tag}:latest"


def store_blob(digest: str) -> pathlib.Path:
    return store_root() / "blobs/sha256" / digest.split(":")[1]


def stored_image(tag):
    """(manifest, config) of a store image, read straight from the OCI layout."""
    name = tag if ":" in tag.split("/")[-1] else tag + ":latest"
    for entry in json.loads((store_root() / "index.json").read_text())["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
            manifest = json.loads(store_blob(entry["digest"]).read_bytes())
            config = json.loads(store_blob(manifest["config"]["digest"]).read_bytes())
            return manifest, config
    raise AssertionError(f"{name} is not in the store")


# --- images made by tests ----------------------------------------------------------------------------

def unique_tag(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def remove_images(cog_bin, *tags):
    """`cog rmi` each tag, so that repeated runs do not fill the store; a tag the test never built
    (it failed first) is no error."""
    for tag in tags:
        subprocess.run([str(cog_bin), "rmi", tag], capture_output=True)


def tag_fixture(prefix: str):
    """A fixture giving each test a unique image name (PREFIX-xxxxxxxx), removed from the store after
    the test. Development images keep one name per project and are replaced, not accumulated.

        tag = tag_fixture("cog-e2e-weights")"""
    @pytest.fixture
    def tag(cog_bin):
        name = unique_tag(prefix)
        yield name
        remove_images(cog_bin, name)

    return tag


def tags_fixture(prefix: str):
    """A module-wide fixture: a function making a new unique image name (PREFIX-xxxxxxxx) at each call,
    all of them removed from the store when the module's tests are done.

        tags = tags_fixture("cog-e2e-py")      # then, in a test or fixture: tag = tags()"""
    @pytest.fixture(scope="module")
    def tags(cog_bin):
        names = []

        def new_tag():
            names.append(unique_tag(prefix))
            return names[-1]

        yield new_tag
        remove_images(cog_bin, *names)

    return tags
