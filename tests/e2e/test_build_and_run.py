"""cog build → OCI image in the local store → cog run / cog exec through runc, checked with skopeo
and umoci as independent readers. Needs root (namespaces, overlayfs) and Debian's mirror for the
first base (cached afterwards under ~/.cache/cog/bases)."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from cog_cli import make_project, predict_when_served, pushed_digest, run_cog as cog, store_ref, tag_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

HELLO_RUN_PY = '''from cog import BaseRunner, Input


class Runner(BaseRunner):
    def setup(self) -> None:
        self.greeting = "hello"

    def run(self, name: str = Input(description="Who to greet", default="world")) -> str:
        print("greeting", name)
        return f"{self.greeting} {name}"
'''


def build_counts(stderr):
    match = re.search(r"Image built as (\S+) \((sha256:[0-9a-f]{64}); (\d+) layers built, (\d+) reused\)", stderr)
    assert match, stderr
    return match.group(2), int(match.group(3)), int(match.group(4))


@pytest.fixture
def project(tmp_path):
    project = make_project(tmp_path / "hello", HELLO_RUN_PY)
    (project / ".dockerignore").write_text("secret-notes.txt\n")
    (project / "secret-notes.txt").write_text("do not ship")
    outside = tmp_path / "outside.txt"
    outside.write_text("host file")
    os.symlink(outside, project / "link-outside")
    return project


tag = tag_fixture("cog-e2e")

# The layer-count tests count base, runtime and source: cog-base's package layer (test_cog_base.py),
# and its ~2 GB rebuild under --no-cache, are not what they are about; nor is it what the tests that
# write archives, layouts or unpacked bundles (each ~2 GB more with it) are about.
NO_COG_BASE = "--use-cog-base-image=false"


def test_build_labels_and_layers_are_valid_oci(cog_bin, project, tag, tmp_path):
    result = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project)
    digest, built, reused = build_counts(result.stderr)
    assert built + reused == 3  # base, runtime, source

    inspect = json.loads(subprocess.run(["skopeo", "inspect", store_ref(tag)], capture_output=True, text=True,
                                        check=True).stdout)
    assert inspect["Digest"] == digest
    labels = inspect["Labels"]
    assert labels["run.cog.version"] == json.loads(labels["run.cog.openapi_schema"])["info"]["version"]
    assert json.loads(labels["run.cog.config"]) == {"build": {"python_version": "3.11"}, "predict": "run.py:Runner"}
    schema = json.loads(labels["run.cog.openapi_schema"])
    assert schema["components"]["schemas"]["Input"]["properties"]["name"]["default"] == "world"
    assert labels["run.cog.has_init"] == "true"
    assert "COG_PREDICT_TYPE_STUB=run.py:Runner" in inspect["Env"]

    config = json.loads(subprocess.run(["skopeo", "inspect", "--config", store_ref(tag)], capture_output=True,
                                       text=True, check=True).stdout)
    assert config["config"]["WorkingDir"] == "/src"
    assert "5000/tcp" in config["config"]["ExposedPorts"]

    bundle = tmp_path / "bundle"
    try:
        subprocess.run(["umoci", "unpack", "--image", store_ref(tag)[len("oci:"):], str(bundle)], check=True,
                       capture_output=True)
        rootfs = bundle / "rootfs"
        assert (rootfs / "src/run.py").read_text() == HELLO_RUN_PY
        assert json.loads((rootfs / "src/.cog/openapi_schema.json").read_text()) == schema
        assert not (rootfs / "src/secret-notes.txt").exists(), ".dockerignore must be honoured"
        # A symlink pointing outside the project is kept as a link, never followed into the layer.
        assert os.path.islink(rootfs / "src/link-outside")
        assert (rootfs / "opt/cog/bin/cog-server").exists()
    finally:
        shutil.rmtree(bundle, ignore_errors=True)  # a whole root


def test_a_git_project_is_labelled_with_its_revision_and_version(cog_bin, project, tag):
    def git(*args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=project, check=True,
                              capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "model")
    git("tag", "v0.1.0")
    environment = {"GITHUB_SHA": "", "GITHUB_REF_NAME": ""}
    cog(cog_bin, "build", "-t", tag, cwd=project, env=environment)
    labels = json.loads(subprocess.run(["skopeo", "inspect", store_ref(tag)], capture_output=True, text=True,
                                       check=True).stdout)["Labels"]
    assert labels["org.opencontainers.image.revision"] == git("rev-parse", "HEAD")
    assert labels["org.opencontainers.image.version"] == "v0.1.0"
    cog(cog_bin, "build", "-t", tag, cwd=project, env={"GITHUB_SHA": "abc123", "GITHUB_REF_NAME": "release-7"})
    labels = json.loads(subprocess.run(["skopeo", "inspect", store_ref(tag)], capture_output=True, text=True,
                                       check=True).stdout)["Labels"]
    assert (labels["org.opencontainers.image.revision"], labels["org.opencontainers.image.version"]) == \
        ("abc123", "release-7")


def test_code_change_reuses_every_other_layer_and_same_inputs_same_digest(cog_bin, project, tag):
    first, _, _ = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project).stderr)
    again, built, reused = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project).stderr)
    assert again == first, "the same inputs must give the same image digest"
    assert built == 1 and reused == 2  # only the source layer is ever rebuilt

    (project / "run.py").write_text(HELLO_RUN_PY.replace('"hello"', '"hi"'))
    changed, built, reused = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project).stderr)
    assert changed != first
    assert (built, reused) == (1, 2)


def test_no_cache_rebuild_gives_the_same_digest(cog_bin, project, tag):
    cached, _, _ = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project).stderr)
    fresh, built, reused = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "--no-cache", cwd=project).stderr)
    assert reused == 0 and built == 3
    assert fresh == cached
    # The name is not part of the image: another tag, the same digest (as docker build -t gives the same ID).
    other = tag + "-again"
    try:
        renamed, _, _ = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", other, cwd=project).stderr)
        assert renamed == cached
    finally:
        cog(cog_bin, "rmi", other, check=False)
    # Another timestamp is another image: no layer made at epoch 0 is reused for it (their mtimes say 0).
    later = ["--timestamp", "1700000000"]
    stamped, _, _ = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, *later, cwd=project).stderr)
    fresh_stamped, _, _ = build_counts(cog(cog_bin, "build", NO_COG_BASE, "-t", tag, *later, "--no-cache", cwd=project).stderr)
    assert stamped == fresh_stamped != cached


def test_run_image_prints_the_prediction(cog_bin, project, tag, tmp_path):
    cog(cog_bin, "build", "-t", tag, cwd=project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cog(cog_bin, "run", tag, "-i", "name=container", cwd=elsewhere)
    assert result.stdout == "hello container\n"
    assert "greeting container" in result.stderr  # the prediction's logs

    as_json = cog(cog_bin, "run", tag, "--json", '{"name": "json"}', cwd=elsewhere)
    body = json.loads(as_json.stdout)
    assert body["status"] == "succeeded" and body["output"] == "hello json"

    bad = cog(cog_bin, "run", tag, "-i", "nme=x", cwd=elsewhere, check=False)
    assert bad.returncode == 1
    assert 'unknown input "nme"' in bad.stderr
    assert "Starting the container" not in bad.stderr, "inputs are checked before the container starts"


def test_run_without_image_uses_the_project_mounted_at_src(cog_bin, project):
    result = cog(cog_bin, "run", "--progress", "quiet", "-i", "name=dev", cwd=project)
    assert result.stdout == "hello dev\n"
    # The development image mounts the project: an edit shows without a source layer rebuild.
    (project / "run.py").write_text(HELLO_RUN_PY.replace('"hello"', '"hey"'))
    result = cog(cog_bin, "run", "--progress", "quiet", "-i", "name=dev", cwd=project)
    assert result.stdout == "hey dev\n"


def test_exec_runs_in_the_model_environment(cog_bin, project):
    (project / "sub").mkdir()
    result = cog(cog_bin, "exec", "--progress", "quiet", "-e", "GREETING=hi", "python3", "-c",
                 "import os, cog; print(os.getcwd(), os.environ['GREETING'], cog.__file__)", cwd=project / "sub")
    assert result.stdout.split() == ["/src", "hi", "/opt/cog/python/cog/__init__.py"]
    failing = cog(cog_bin, "exec", "--progress", "quiet", "sh", "-c", "exit 7", cwd=project, check=False)
    assert failing.returncode == 7
    written = cog(cog_bin, "exec", "--progress", "quiet", "sh", "-c", "echo made > /src/made.txt", cwd=project)
    assert written.returncode == 0 and (project / "made.txt").read_text() == "made\n"


SERVE_MODULE_PY = """import json, os, subprocess, sys, time, urllib.request

url = "http://127.0.0.1:" + os.environ["PORT"]
server = subprocess.Popen([sys.executable, "-m", "cog.server.http", "--host", "127.0.0.1"])
try:
    for _ in range(300):
        try:
            if json.load(urllib.request.urlopen(url + "/health-check"))["status"] == "READY":
                break
        except OSError:
            pass
        time.sleep(0.1)
    body = json.dumps({"input": {"name": "module"}}).encode()
    request = urllib.request.Request(url + "/predictions", data=body, headers={"Content-Type": "application/json"})
    print(json.load(urllib.request.urlopen(request))["output"])
finally:
    server.terminate()
    server.wait()
"""


def test_python_m_cog_server_http_serves_in_the_image(cog_bin, project):
    """The command Cog images run finds our server where the image keeps it (/opt/cog/bin)."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (project / "serve_module.py").write_text(SERVE_MODULE_PY)
    result = cog(cog_bin, "exec", "--progress", "quiet", "-e", f"PORT={port}", "python", "serve_module.py",
                 cwd=project)
    assert result.stdout.splitlines()[-1] == "hello module", result.stderr


def test_no_mounts_are_left_behind(cog_bin, project):
    before = pathlib.Path("/proc/self/mountinfo").read_text()
    cog(cog_bin, "run", "--progress", "quiet", "-i", "name=x", cwd=project)
    assert pathlib.Path("/proc/self/mountinfo").read_text() == before


def test_build_writes_docker_archive_and_oci_outputs(cog_bin, project, tag, tmp_path):
    archive = tmp_path / "image.tar"
    layout = tmp_path / "layout"
    try:
        result = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "-o", f"docker-archive:{archive}",
                     "-o", f"oci:{layout}:v1", cwd=project)
        digest, _, _ = build_counts(result.stderr)
        inspect = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{layout}:v1"], capture_output=True,
                                            text=True, check=True).stdout)
        assert inspect["Digest"] == digest
        from_archive = json.loads(subprocess.run(["skopeo", "inspect", f"docker-archive:{archive}"],
                                                 capture_output=True, text=True, check=True).stdout)
        assert from_archive["Labels"]["run.cog.version"] == inspect["Labels"]["run.cog.version"]
    finally:  # each a whole image
        archive.unlink(missing_ok=True)
        shutil.rmtree(layout, ignore_errors=True)


def test_schema_errors_stop_the_build_before_any_layer(cog_bin, project, tag):
    (project / "run.py").write_text(HELLO_RUN_PY.replace("def run(self, name: str", "def run(self, name"))
    result = cog(cog_bin, "build", "-t", tag, cwd=project, check=False)
    assert result.returncode == 1
    assert "missing type annotation for parameter 'name'" in result.stderr
    assert "BASE" not in result.stderr and "CACHED" not in result.stderr


def test_serve_answers_predictions_until_interrupted(cog_bin, project):
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(cog_bin), "serve", "-p", str(port), "--progress", "quiet"], cwd=project,
                              stderr=subprocess.PIPE, text=True)
    try:
        body = predict_when_served(port, {"name": "serve"})
        assert body and body["output"] == "hello serve"
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        assert f"Serving at http://localhost:{port}" in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    listed = subprocess.run(["runc", "list", "-q"], capture_output=True, text=True).stdout
    assert "cog-" not in listed, "the container must be deleted on exit"


def test_push_builds_then_a_code_change_uploads_only_the_code_layer(cog_bin, project, tmp_path):
    from registry_helpers import Registry, running

    with running(Registry(tmp_path / "registry")) as registry:
        target = f"{registry.host}/models/hello"
        first = cog(cog_bin, "--debug", "push", target, NO_COG_BASE, "--progress", "plain", cwd=project)
        assert f"Pushing to {target}" in first.stderr
        digest = pushed_digest(first.stderr)
        inspect = json.loads(subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{target}"],
                                            capture_output=True, text=True, check=True).stdout)
        assert inspect["Digest"] == digest
        assert "run.cog.openapi_schema" in inspect["Labels"]
        # Cog labels each push with a UUIDv7 (time-ordered: version nibble 7, RFC variant).
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            inspect["Labels"]["run.cog.push_id"]), inspect["Labels"].get("run.cog.push_id")

        (project / "run.py").write_text(HELLO_RUN_PY.replace('"hello"', '"hi"'))
        second = cog(cog_bin, "--debug", "push", target, NO_COG_BASE, "--progress", "plain", cwd=project)
        stats = [l for l in second.stderr.splitlines() if l.startswith("push stats: ")][-1]
        # Only the new code layer and the new config travel; base and runtime layers are skipped.
        assert "blobs_uploaded=2 " in stats and "blobs_existing=2 " in stats, stats


def test_train_runs_the_train_target_in_a_container(cog_bin, source_dir, tmp_path):
    project = tmp_path / "trainer"
    shutil.copytree(source_dir / "tests/fixtures/predictors/train_function", project)
    result = cog(cog_bin, "train", "--progress", "quiet", "-i", "steps=3", cwd=project)
    assert 'Command "train" is deprecated' in result.stderr
    output = json.loads(result.stdout)
    assert output["weights"].startswith("data:text/plain;base64,")
    import base64
    assert base64.b64decode(output["weights"].split(",", 1)[1]) == b"trained for 3 steps"
    bad = cog(cog_bin, "train", "--progress", "quiet", "-i", "steps=0", cwd=project, check=False)
    assert bad.returncode == 1 and "steps" in bad.stderr


@pytest.mark.skipif(os.path.exists("/dev/nvidia0"), reason="this machine has a GPU")
def test_gpus_without_a_gpu_fails_fast_with_a_clear_message(cog_bin, project, tag):
    cog(cog_bin, "build", "-t", tag, cwd=project)
    result = cog(cog_bin, "run", tag, "--gpus", "all", "-i", "name=x", cwd=project, check=False)
    assert result.returncode == 1
    assert "no NVIDIA GPU on this machine" in result.stderr
    assert "Starting the container" not in result.stderr


def test_secret_mounts_are_optional_and_read_only_as_in_buildkit(cog_bin, tmp_path, tag):
    project = make_project(tmp_path / "secrets", HELLO_RUN_PY,
                           'build:\n  python_version: "3.11"\n  run:\n'
                           '    - command: if [ -e /run/secrets/token ]; then stat -c %a /run/secrets/token; '
                           'else echo absent; fi > /secret-state.txt\n'
                           '      mounts:\n        - type: secret\n          id: token\n'
                           '          target: /run/secrets/token\n'
                           'run: "run.py:Runner"\n')
    without = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project)
    assert 'secret "token" was not given' in without.stderr
    secret = tmp_path / "token.txt"
    secret.write_text("sesame")
    secret.chmod(0o644)
    with_secret = cog(cog_bin, "build", NO_COG_BASE, "-t", tag + "-s", "--secret", f"id=token,src={secret}",
                      cwd=project)
    try:
        for name, expected in ((tag, "absent"), (tag + "-s", "400")):
            bundle = tmp_path / ("bundle-" + expected)
            try:
                subprocess.run(["umoci", "unpack", "--image", store_ref(name)[len("oci:"):], str(bundle)],
                               check=True, capture_output=True)
                assert (bundle / "rootfs/secret-state.txt").read_text().strip() == expected
                assert not (bundle / "rootfs/run/secrets/token").exists()
            finally:
                shutil.rmtree(bundle, ignore_errors=True)  # a whole root
    finally:
        cog(cog_bin, "rmi", tag + "-s", check=False)
    assert "sesame" not in with_secret.stderr


def test_environment_values_expand_as_dockers_env_does(cog_bin, tmp_path, tag):
    """Cog writes `environment` as one ENV line, which Docker expands against the variables set before
    it (the preamble's), not against each other; `\\$` is a literal dollar."""
    project = make_project(
        tmp_path / "env", 'import os\nfrom cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n'
        '    def run(self) -> str:\n'
        '        return "|".join(os.environ[n] for n in ("FRONTEND", "GREETING", "SAME_LINE", "LITERAL"))\n',
        'build:\n  python_version: "3.11"\n  run:\n    - test "$FRONTEND" = noninteractive\n'
        'environment:\n  - FRONTEND=$DEBIAN_FRONTEND\n  - GREETING=hi ${UNSET:-there}\n'
        '  - SAME_LINE=[$GREETING]\n  - LITERAL=\\$HOME\n'
        'run: "run.py:Runner"\n')
    cog(cog_bin, "build", "-t", tag, cwd=project)
    env = json.loads(subprocess.run(["skopeo", "inspect", store_ref(tag)], capture_output=True, text=True,
                                    check=True).stdout)["Env"]
    assert "FRONTEND=noninteractive" in env and "LITERAL=$HOME" in env
    assert cog(cog_bin, "run", tag, cwd=project).stdout == "noninteractive|hi there|[]|$HOME\n"


def test_run_steps_see_the_environment_and_may_pip_install(cog_bin, tmp_path, tag):
    project = tmp_path / "steps"
    project.mkdir()
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  run:\n'
                                      '    - pip install six==1.16.0\n'
                                      '    - echo "$GREETING" > /greeting.txt\n'
                                      'environment:\n  - GREETING=hey\nrun: "run.py:Runner"\n')
    (project / "run.py").write_text('import os, six\nfrom cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n'
                                    '    def run(self) -> str:\n'
                                    '        return open("/greeting.txt").read().strip() + " " + os.environ["GREETING"]'
                                    ' + " " + six.__version__\n')
    result = cog(cog_bin, "build", "-t", tag, cwd=project)
    assert "RUN RUN" not in result.stderr
    assert cog(cog_bin, "run", tag, cwd=project).stdout == "hey hey 1.16.0\n"
    # `python` exists as in Cog's images, not only python3.
    assert cog(cog_bin, "exec", "--progress", "quiet", "python", "-c", "print('py')", cwd=project).stdout == "py\n"
    # `--` ends cog's own flags, as in Cog; a later `--` belongs to the command.
    assert cog(cog_bin, "exec", "--progress", "quiet", "--", "sh", "-c", "echo \"$@\"", "sh", "--", "x",
               cwd=project).stdout == "-- x\n"
