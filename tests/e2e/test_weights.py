"""cog weights import / status / pull against a real docker-registry on 127.0.0.1, the drift check
in build/run/push, and cog run with the weights mounted read-only at their target (a real model:
tests/fixtures/weights_model reads them in setup())."""
import hashlib
import json
import os
import pathlib
import shutil
import tarfile
import urllib.request

import pytest

from cog_cli import predict_when_served, private_env, run_cog, run_cog_with as cog, store_blob, stored_image, tag_fixture
from registry_helpers import Registry, running

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "weights_model"
VOCAB = "alpha beta gamma\n"
# The images built here leave out cog-base's package layer (test_cog_base.py): these tests are about
# weights, and it would be ~2 GB more to read through layer by layer and to push.
NO_COG_BASE = "--use-cog-base-image=false"
MODEL = bytes(range(256)) * 64


def cog_yaml(registry_host, source="weights", extra=""):
    return (f'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\nmodel: {registry_host}/test/tiny\n'
            f"weights:\n  - name: tiny\n    target: /weights/tiny\n    source:\n      uri: {source}\n"
            f'      exclude: ["*.md"]\n{extra}')


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def registry(tmp_path):
    with running(Registry(tmp_path / "registry")) as server:
        yield server


@pytest.fixture
def project(tmp_path, registry):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    (project / "weights" / "sub").mkdir(parents=True)
    (project / "weights" / "vocab.txt").write_text(VOCAB)
    (project / "weights" / "sub" / "model.bin").write_bytes(MODEL)
    (project / "weights" / "notes.md").write_text("excluded by the glob")
    (project / "cog.yaml").write_text(cog_yaml(registry.host))
    return project


@pytest.fixture
def env(tmp_path):
    return private_env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "cache"))


def registry_json(registry, path, accept):
    request = urllib.request.Request(registry.url + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_import_writes_the_lock_pushes_the_artifact_and_warms_the_cache(cog_bin, project, env, registry, tmp_path):
    result = cog(cog_bin, env, "weights", "import", cwd=project)
    assert "Importing tiny" in result.stderr and "Wrote" in result.stderr

    lock = json.loads((project / "weights.lock").read_text())
    assert lock["version"] == 1 and lock["envelopeFormat"] == "application/vnd.cog.weight.v1"
    [weight] = lock["weights"]
    assert weight["name"] == "tiny" and weight["target"] == "/weights/tiny"
    [source] = weight["sources"]
    assert source["uri"] == "weights" and source["exclude"] == ["*.md"] and source["include"] == []
    assert source["importedAt"].endswith("Z") and source["fingerprint"].startswith("sha256:")
    files = {entry["path"]: entry for entry in weight["files"]}
    assert sorted(files) == ["sub/model.bin", "vocab.txt"]  # notes.md excluded
    assert files["vocab.txt"]["digest"] == sha256(VOCAB.encode()) and files["vocab.txt"]["size"] == len(VOCAB)
    assert files["sub/model.bin"]["digest"] == sha256(MODEL)
    assert weight["size"] == len(VOCAB) + len(MODEL)
    # setDigest: sha256 of sha256sum-style lines, sorted by path.
    lines = "".join(f"{files[p]['digest'][7:]}  {p}\n" for p in sorted(files))
    assert weight["setDigest"] == sha256(lines.encode())
    assert source["fingerprint"] == weight["setDigest"]  # one source: the same set

    # The artifact in the registry: the manifest's bytes hash to the locked digest, its layers are
    # the locked layers, and each layer blob hashes to its digest and holds the files.
    manifest_request = urllib.request.Request(
        f"{registry.url}/v2/test/tiny/manifests/{weight['digest']}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(manifest_request, timeout=10) as response:
        manifest_bytes = response.read()
    assert sha256(manifest_bytes) == weight["digest"]
    manifest = json.loads(manifest_bytes)
    assert manifest["artifactType"] == "application/vnd.cog.weight.v1"
    assert manifest["config"]["mediaType"] == "application/vnd.cog.weight.config.v1+json"
    assert manifest["annotations"]["run.cog.weight.name"] == "tiny"
    assert [layer["digest"] for layer in manifest["layers"]] == [layer["digest"] for layer in weight["layers"]]
    assert weight["sizeCompressed"] == sum(layer["size"] for layer in weight["layers"])
    for layer in weight["layers"]:
        with urllib.request.urlopen(f"{registry.url}/v2/test/tiny/blobs/{layer['digest']}", timeout=10) as response:
            blob = response.read()
        assert sha256(blob) == layer["digest"] and len(blob) == layer["size"]
    tags = registry_json(registry, "/v2/test/tiny/tags/list", "application/json")["tags"]
    assert f"weights-tiny-{weight['setDigest'][7:19]}" in tags

    # The local content store holds every file under its digest.
    store = tmp_path / "cache" / "cog" / "weights" / "files" / "sha256"
    for entry in weight["files"]:
        assert sha256((store / entry["digest"][7:]).read_bytes()) == entry["digest"]

    # Importing the same content again changes nothing (importedAt kept), byte for byte.
    before = (project / "weights.lock").read_text()
    cog(cog_bin, env, "weights", "import", cwd=project)
    assert (project / "weights.lock").read_text() == before


def test_dry_run_changes_nothing(cog_bin, project, env, registry):
    result = cog(cog_bin, env, "weights", "import", "--dry-run", "-v", cwd=project)
    assert "Would import tiny" in result.stderr and "2 file(s)" in result.stderr
    assert "sub/model.bin" in result.stderr and "notes.md" not in result.stderr
    assert not (project / "weights.lock").exists()
    assert registry_json(registry, "/v2/_catalog", "application/json")["repositories"] == []


def test_status_and_pull_into_an_empty_cache(cog_bin, project, env, registry, tmp_path):
    status = json.loads(cog(cog_bin, env, "weights", "status", "--json", cwd=project).stdout)
    assert status["weights"][0]["status"] == "not imported"
    cog(cog_bin, env, "weights", "import", cwd=project)
    text = cog(cog_bin, env, "weights", "status", cwd=project).stdout
    assert "tiny" in text and "cached (2/2 files)" in text

    (tmp_path / "other").mkdir()
    empty = private_env(tmp_path / "other", XDG_CACHE_HOME=str(tmp_path / "empty-cache"))
    text = cog(cog_bin, empty, "weights", "status", cwd=project).stdout
    assert "2 missing / 2 total" in text
    pulled = cog(cog_bin, empty, "weights", "pull", cwd=project)
    assert "Pulling tiny (2 missing / 2 total)" in pulled.stderr and "Pulled tiny" in pulled.stderr
    store = tmp_path / "empty-cache" / "cog" / "weights" / "files" / "sha256"
    assert (store / sha256(VOCAB.encode())[7:]).read_text() == VOCAB
    assert (store / sha256(MODEL)[7:]).read_bytes() == MODEL
    again = cog(cog_bin, empty, "weights", "pull", "tiny", cwd=project)
    assert "All 1 weight(s) already cached" in again.stderr
    status = json.loads(cog(cog_bin, empty, "weights", "status", "--json", cwd=project).stdout)
    assert status["weights"][0]["status"] == "cached" and status["weights"][0]["filesCached"] == 2

    unknown = cog(cog_bin, empty, "weights", "pull", "nope", cwd=project, check=False)
    assert unknown.returncode == 1 and 'no weight named "nope"' in unknown.stderr


def test_pull_refuses_a_file_whose_digest_does_not_match(cog_bin, project, env, registry, tmp_path):
    cog(cog_bin, env, "weights", "import", cwd=project)
    lock = json.loads((project / "weights.lock").read_text())
    lock["weights"][0]["files"][1]["digest"] = sha256(b"something else")
    (project / "weights.lock").write_text(json.dumps(lock))
    (tmp_path / "other").mkdir()
    other = private_env(tmp_path / "other", XDG_CACHE_HOME=str(tmp_path / "other-cache"))
    result = cog(cog_bin, other, "weights", "pull", cwd=project, check=False)
    assert result.returncode == 1 and "does not match" in result.stderr


def test_drift_between_cog_yaml_and_the_lock_stops_build_run_and_push(cog_bin, project, env, registry):
    missing = cog(cog_bin, env, "build", "-t", "cog-e2e-weights-drift", cwd=project, check=False)
    assert missing.returncode == 1
    assert "weights.lock" in missing.stderr and "does not exist" in missing.stderr
    assert "cog weights import" in missing.stderr
    cog(cog_bin, env, "weights", "import", cwd=project)
    (project / "cog.yaml").write_text(cog_yaml(registry.host).replace('["*.md"]', '["*.txt"]'))
    for command in (["build", "-t", "cog-e2e-weights-drift"], ["run"], ["push"]):
        result = cog(cog_bin, env, *command, cwd=project, check=False)
        assert result.returncode == 1, (command, result.stderr)
        assert "cog.yaml" in result.stderr and "weights.lock" in result.stderr, result.stderr
        assert 'weight "tiny" has other sources' in result.stderr and "run cog weights import" in result.stderr
    status = json.loads(cog(cog_bin, env, "weights", "status", "--json", cwd=project).stdout)
    assert status["weights"][0]["status"] == "stale"


def test_sources_errors_name_the_field(cog_bin, project, env, registry):
    (project / "cog.yaml").write_text(cog_yaml(registry.host, source="hf://owner/repo"))
    result = cog(cog_bin, env, "weights", "import", cwd=project, check=False)
    assert result.returncode == 1
    assert "weights[0].source" in result.stderr and "not supported yet" in result.stderr
    (project / "cog.yaml").write_text(cog_yaml(registry.host, source="no-such-dir"))
    result = cog(cog_bin, env, "weights", "import", cwd=project, check=False)
    assert result.returncode == 1 and "no such file or directory" in result.stderr


def test_https_and_hf_sources_download_the_file(cog_bin, project, env, registry, tmp_path):
    import http.server
    import threading

    served = tmp_path / "served"
    (served / "owner" / "repo" / "resolve" / "main").mkdir(parents=True)
    (served / "owner" / "repo" / "resolve" / "main" / "config.json").write_text('{"hidden": 8}')
    (served / "plain.bin").write_bytes(b"plain bytes")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        yaml = (f'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\nmodel: {registry.host}/test/dl\nweights:\n'
                f"  - name: dl\n    target: /w\n    source:\n      - uri: {base}/plain.bin\n"
                f"      - uri: hf://owner/repo/config.json\n")
        (project / "cog.yaml").write_text(yaml)
        cog(cog_bin, {**env, "HF_ENDPOINT": base}, "weights", "import", cwd=project)
    finally:
        server.shutdown()
    weight = json.loads((project / "weights.lock").read_text())["weights"][0]
    assert {f["path"]: f["digest"] for f in weight["files"]} == {
        "plain.bin": sha256(b"plain bytes"), "config.json": sha256(b'{"hidden": 8}')}


tag = tag_fixture("cog-e2e-weights")


@pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")
def test_run_mounts_the_weights_read_only_at_the_target(cog_bin, project, registry, tmp_path, tag):
    # The shared base-image caches stay (XDG_CACHE_HOME untouched); the weights cache is private.
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "COG_CACHE_DIR": str(tmp_path / "weights-cache"),
           "COG_NO_UPDATE_CHECK": "1"}
    run_cog(cog_bin, "weights", "import", cwd=project, base_env=env)
    shutil.rmtree(tmp_path / "weights-cache")  # cog run pulls what the cache lacks first
    result = run_cog(cog_bin, "run", "-i", "index=1", cwd=project, base_env=env)
    assert result.stdout.strip() == "beta:" + hashlib.sha256(MODEL).hexdigest()[:16] + ":ro"
    assert "Pulled tiny" in result.stderr
    assert not (project / ".cog" / "mounts").exists()  # cleaned up on exit

    # The built image carries /.cog/weights.json.
    run_cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project, base_env=env)
    lock = json.loads((project / "weights.lock").read_text())
    expected = {"weights": [{"name": "tiny", "target": "/weights/tiny",
                             "setDigest": lock["weights"][0]["setDigest"]}]}
    manifest, _ = stored_image(tag)
    found = []
    for layer in manifest["layers"]:
        with tarfile.open(store_blob(layer["digest"])) as archive:
            names = archive.getnames()
            if ".cog/weights.json" in names:
                found.append(json.loads(archive.extractfile(".cog/weights.json").read()))
            # Neither at the target nor as the project's weights/ source: weights come as mounts.
            assert not any(name.startswith(("weights/", "src/weights/")) for name in names), names
    assert found == [expected]


@pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")
def test_run_of_a_named_image_mounts_its_weights_from_the_lock_or_the_cache(cog_bin, project, registry, tmp_path,
                                                                           tag):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "COG_CACHE_DIR": str(tmp_path / "weights-cache"),
           "COG_NO_UPDATE_CHECK": "1"}
    run_cog(cog_bin, "weights", "import", cwd=project, base_env=env)
    run_cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project, base_env=env)
    expected = "beta:" + hashlib.sha256(MODEL).hexdigest()[:16] + ":ro"

    # Another directory with the project's cog.yaml and lock (not its weights/), an empty cache:
    # the lock says what to pull, and the files are mounted read-only at the image's target.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("cog.yaml", "weights.lock", "run.py"):
        shutil.copy(project / name, elsewhere / name)
    pulled_cache = tmp_path / "pulled-cache"
    result = run_cog(cog_bin, "run", tag, "-i", "index=1", cwd=elsewhere,
                     base_env={**env, "COG_CACHE_DIR": str(pulled_cache)})
    assert result.stdout.strip() == expected
    assert "Pulled tiny" in result.stderr
    assert not (pulled_cache / "weights" / "mounts").exists()  # cleaned up on exit

    # No project at all: the cache that holds the set mounts it by itself.
    bare = tmp_path / "bare"
    bare.mkdir()
    result = run_cog(cog_bin, "run", tag, "-i", "index=1", cwd=bare, base_env={**env, "COG_CACHE_DIR": str(pulled_cache)})
    assert result.stdout.strip() == expected
    assert "Pulling" not in result.stderr

    # Neither cached nor locked: a clear error naming the weight and what to do.
    result = run_cog(cog_bin, "run", tag, "-i", "index=1", cwd=bare, check=False,
                     base_env={**env, "COG_CACHE_DIR": str(tmp_path / "empty-cache")})
    assert result.returncode != 0
    assert f'weight "tiny" of {tag}' in result.stderr, result.stderr
    assert "neither in the weights cache" in result.stderr
    assert "run cog weights pull in the model's project" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="building images needs root")
def test_push_sends_an_index_of_the_image_and_the_weights(cog_bin, project, registry, tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "COG_CACHE_DIR": str(tmp_path / "weights-cache"),
           "COG_NO_UPDATE_CHECK": "1"}
    run_cog(cog_bin, "weights", "import", cwd=project, base_env=env)
    result = run_cog(cog_bin, "push", NO_COG_BASE, cwd=project, base_env=env)
    lock = json.loads((project / "weights.lock").read_text())
    assert f"weight  tiny  {lock['weights'][0]['digest']}" in result.stderr
    index = registry_json(registry, "/v2/test/tiny/manifests/latest", "application/vnd.oci.image.index.v1+json")
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    image, weight = index["manifests"]
    assert image["platform"] == {"architecture": "amd64", "os": "linux"}
    assert weight["digest"] == lock["weights"][0]["digest"]
    assert weight["artifactType"] == "application/vnd.cog.weight.v1"
    assert weight["annotations"]["run.cog.weight.name"] == "tiny"
    # The image entry is what cog push sent first ("Pushed REF@DIGEST").
    pushed = [line for line in result.stderr.splitlines() if line.startswith("Pushed ")][-1].rsplit("@", 1)[1]
    assert image["digest"] == pushed


@pytest.mark.skipif(os.geteuid() != 0, reason="running images needs root")
def test_serve_mounts_the_weights_and_removes_the_links_on_exit(cog_bin, project, registry, tmp_path):
    import signal
    import subprocess

    from ports import free_port

    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "COG_CACHE_DIR": str(tmp_path / "weights-cache"),
           "COG_NO_UPDATE_CHECK": "1"}
    run_cog(cog_bin, "weights", "import", cwd=project, base_env=env)
    port = free_port()
    server = subprocess.Popen([str(cog_bin), "serve", "-p", str(port), "--progress", "quiet"], cwd=project,
                              env=env, stderr=subprocess.PIPE, text=True)
    try:
        body = predict_when_served(port, {"index": 2})
        if not body:
            server.kill()
            raise AssertionError("no answer from cog serve:\n" + server.communicate()[1])
        assert body["output"] == "gamma:" + hashlib.sha256(MODEL).hexdigest()[:16] + ":ro"
        mounts = list((project / ".cog" / "mounts").iterdir())
        assert len(mounts) == 1 and (mounts[0] / "tiny" / "vocab.txt").read_text() == VOCAB
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert not (project / ".cog" / "mounts").exists()


def test_weights_is_hidden_from_the_main_help_but_lists_its_subcommands(cog_bin, tmp_path):
    main_help = run_cog(cog_bin, "--help", cwd=tmp_path).stdout
    assert "build" in main_help and "weights" not in main_help
    own_help = run_cog(cog_bin, "weights", "--help", cwd=tmp_path).stdout
    for command in ("import", "pull", "status"):
        assert command in own_help
    no_weights = tmp_path / "plain"
    no_weights.mkdir()
    (no_weights / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n')
    (no_weights / "run.py").write_text("class Runner:\n    pass\n")
    result = run_cog(cog_bin, "weights", "status", cwd=no_weights, check=False)
    assert result.returncode == 1 and "declares no weights" in result.stderr


def test_big_files_get_their_own_plain_layer_and_packing_is_deterministic(cog_bin, project, env, registry):
    big = project / "weights" / "big.safetensors"
    with open(big, "wb") as out:
        out.truncate(64 * 1024 * 1024 + 5)  # 64 MiB and a bit: at the threshold for a layer of its own
    cog(cog_bin, env, "weights", "import", cwd=project)
    weight = json.loads((project / "weights.lock").read_text())["weights"][0]
    layers = {layer["digest"]: layer for layer in weight["layers"]}
    by_path = {entry["path"]: entry for entry in weight["files"]}
    big_layer = layers[by_path["big.safetensors"]["layer"]]
    assert big_layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert big_layer["size"] == big_layer["sizeUncompressed"] > 64 * 1024 * 1024
    small_layer = layers[by_path["vocab.txt"]["layer"]]
    assert by_path["sub/model.bin"]["layer"] == small_layer["digest"] != big_layer["digest"]
    assert small_layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert small_layer["sizeUncompressed"] % 512 == 0 and small_layer["sizeUncompressed"] > len(MODEL)

    # Other mtimes and modes, the same bytes: the same layers and manifest.
    for path in (project / "weights").rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    (project / "weights" / "vocab.txt").chmod(0o600)
    (project / "weights.lock").unlink()
    cog(cog_bin, env, "weights", "import", cwd=project)
    again = json.loads((project / "weights.lock").read_text())["weights"][0]
    assert again["digest"] == weight["digest"] and again["layers"] == weight["layers"]
