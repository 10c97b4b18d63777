"""The real Cog runtime from PyPI (the `cog` SDK and `coglet`, its Rust HTTP server), started on a
fixture predictor the way a `cog build` image starts it, for tests and benchmarks that compare it
with ours.

How Cog 0.23 starts it (read from the installed cog/server/http.py and coglet's strings):
  * command: `python -m cog.server.http --host H` in the project directory (`/src` in an image);
    port from `$PORT`; runner from `$COG_PREDICT_TYPE_STUB` (`--x-mode train` reads
    `$COG_TRAIN_TYPE_STUB`); slots from `$COG_MAX_CONCURRENCY` (baked from `@concurrent` at build).
  * coglet spawns its Python worker as `python3` from `$PATH`, so the venv's bin/ must come first
    in PATH (otherwise the worker dies with `No module named 'coglet'`).
  * the OpenAPI schema is read from `.cog/openapi_schema.json` in the working directory, which
    `cog build` writes; without it coglet accepts any input and /openapi.json answers 503. We write
    it with our static generator (`python3 -m cog.command.openapi_schema --static`).

Usage:
    venv = coglet_venv()                      # raises CogletUnavailable when PyPI cannot be reached
    project = prepare_project(FIXTURES / "hello", tmp_path / "hello")
    server = Coglet(venv, project)            # same interface as cog_server_harness.Server
    server.wait_for("READY"); server.predict({"input": {"name": "x"}}); server.shutdown()
"""
import fcntl
import os
import pathlib
import shutil
import subprocess
import sys

from cog_server_harness import SOURCE_DIR, Server, free_port

COGLET_VERSION = "0.23.1"
CACHE_DIR = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "cog-test"
PYTHON = "/usr/bin/python3"  # Debian's, the one our worker embeds


class CogletUnavailable(Exception):
    """The venv could not be created (PyPI unreachable or the packages missing)."""


def coglet_venv(cache_dir=CACHE_DIR):
    """A venv with cog and coglet COGLET_VERSION, created once under cache_dir and reused; safe to
    call from several processes at once."""
    venv = pathlib.Path(cache_dir) / "coglet-venv"
    stamp = venv / f"cog-{COGLET_VERSION}.ok"
    if stamp.exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / "coglet-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        created = subprocess.run([PYTHON, "-m", "venv", str(venv)], capture_output=True, text=True)
        if created.returncode != 0:
            raise RuntimeError(f"{PYTHON} -m venv {venv} failed (install Debian's python3-venv):\n{created.stderr}")
        install = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--timeout", "20",
             "--retries", "1", f"cog=={COGLET_VERSION}", f"coglet=={COGLET_VERSION}"],
            capture_output=True, text=True)
        if install.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise CogletUnavailable(f"pip install cog/coglet {COGLET_VERSION} failed:\n{install.stderr[-2000:]}")
        stamp.write_text(COGLET_VERSION + "\n")
    return venv


def write_schema(project_dir, predict_ref=None, train_ref=None, version=COGLET_VERSION):
    """Write project_dir/.cog/openapi_schema.json as `cog build` would, with our static generator."""
    args = [PYTHON, "-m", "cog.command.openapi_schema", "--static", "--project-dir", str(project_dir),
            "--version", version]
    if predict_ref:
        args += ["--ref", predict_ref]
    if train_ref:
        args += ["--train-ref", train_ref]
    env = dict(os.environ, PYTHONPATH=str(SOURCE_DIR / "runtime" / "python"))
    env = {k: v for k, v in env.items() if not k.startswith("COG_")}
    result = subprocess.run(args, cwd=project_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"schema generation failed for {project_dir}:\n{result.stderr}")
    (pathlib.Path(project_dir) / ".cog").mkdir(exist_ok=True)
    (pathlib.Path(project_dir) / ".cog" / "openapi_schema.json").write_text(result.stdout)
    return result.stdout


def project_ref(project_dir, train=False):
    """The runner reference in project_dir/cog.yaml: `train:` when train, else `run:`/`predict:`."""
    wanted = ("train",) if train else ("run", "predict")
    for line in (pathlib.Path(project_dir) / "cog.yaml").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            return value.strip().strip('"')
    raise AssertionError(f"no {'/'.join(wanted)} reference in {project_dir}/cog.yaml")


def prepare_project(fixture_dir, dest, train=False):
    """Copy a fixture project to dest (our fixtures stay clean) and bake its schema. Returns dest."""
    dest = pathlib.Path(dest)
    shutil.copytree(fixture_dir, dest, ignore=shutil.ignore_patterns("__pycache__", ".cog"))
    ref = project_ref(dest, train)
    write_schema(dest, train_ref=ref) if train else write_schema(dest, predict_ref=ref)
    return dest


class Coglet(Server):
    """coglet serving project_dir (prepared by prepare_project); the request/health/wait_for/
    predict/shutdown/kill interface of cog_server_harness.Server."""

    def __init__(self, venv, project_dir, env=None, args=(), train=False, host="127.0.0.1"):
        import threading
        self.fixture_dir = pathlib.Path(project_dir)
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
        stub_var = "COG_TRAIN_TYPE_STUB" if train else "COG_PREDICT_TYPE_STUB"
        environment.update({"PORT": str(self.port), stub_var: project_ref(self.fixture_dir, train),
                            "PATH": f"{venv / 'bin'}:{environment.get('PATH', '/usr/bin:/bin')}",
                            "PYTHONDONTWRITEBYTECODE": "1"})
        environment.pop("PYTHONPATH", None)
        environment.update(env or {})
        mode = ["--x-mode", "train"] if train else []
        self.process = subprocess.Popen([str(venv / "bin" / "python"), "-m", "cog.server.http", "--host", host,
                                         *mode, *args], cwd=self.fixture_dir, env=environment,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._output = []
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()


if __name__ == "__main__":
    # `python3 tests/e2e/coglet_helpers.py` creates (or finds) the venv and prints its path.
    print(coglet_venv())
    sys.exit(0)
