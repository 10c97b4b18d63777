"""cog build --base-image: a base built here, saved as oci:DIR and docker-archive:FILE and copied to a
local docker-registry with skopeo, becomes the first layers of another project's image (same
digests), which then runs. Missing, broken and hostile bases are clear errors. Needs root."""
import contextlib
import gzip
import hashlib
import io
import json
import os
import pathlib
import shutil
import tarfile

import pytest

import registry_helpers as rh
from cog_cli import make_project, remove_images, run_cog as cog, stored_image, unique_tag

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

# The bases built here leave out cog-base's package layer (test_cog_base.py): these tests are about
# --base-image, and with it every base (and every root merged from one) would be ~2 GB bigger.
NO_COG_BASE = "--use-cog-base-image=false"

BASE_RUN_PY = '''from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return "base"
'''

APP_RUN_PY = '''import os
from cog import BaseRunner


class Runner(BaseRunner):
    def run(self, name: str = "world") -> str:
        return " ".join([os.environ["BASE_GREETING"], name, open("/base-marker.txt").read().strip(),
                         open("/build-workdir.txt").read().strip()])
'''


def layer_digests(manifest):
    return [layer["digest"] for layer in manifest["layers"]]


def archive_layer_digests(archive):
    """The layers of a docker-archive as they are stored in it (uncompressed tars: digest = diff_id)."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        return ["sha256:" + file_sha256(tar.extractfile(name)) for name in manifest["Layers"]]


def file_sha256(file) -> str:
    """The hex sha256 of an open file, read in chunks (a layer may be gigabytes)."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def base(cog_bin, tmp_path_factory):
    """A base image (Debian + python + a marker file + BASE_GREETING in its Env) in the store, as
    oci:DIR, as docker-archive:FILE and in a local registry."""
    tmp = tmp_path_factory.mktemp("bases")
    tag = unique_tag("cog-e2e-base")
    project = make_project(tmp / "base", BASE_RUN_PY,
                           'build:\n  python_version: "3.11"\n  run:\n    - echo from-base > /base-marker.txt\n'
                           'environment:\n  - BASE_GREETING=hola\nrun: "run.py:Runner"\n')
    layout, archive = tmp / "layout", tmp / "base.tar"
    try:
        cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "-o", f"oci:{layout}:base", "-o", f"docker-archive:{archive}",
            cwd=project)
        with rh.running(rh.Registry(tmp / "registry")) as registry:
            rh.skopeo("copy", f"oci:{layout}:base", f"docker://{registry.host}/bases/python:3.11",
                      "--dest-tls-verify=false")
            manifest, config = stored_image(tag)
            yield {"tag": tag, "layout": layout, "archive": archive, "registry": registry, "manifest": manifest,
                   "config": config, "tmp": tmp}
    finally:
        remove_images(cog_bin, tag)
        shutil.rmtree(tmp, ignore_errors=True)  # the layout, the archive and the registry's copy


@pytest.fixture
def app(tmp_path, cog_bin):
    # The run step records where it ran: the base's WorkingDir (/src), as RUN after FROM.
    project = make_project(tmp_path / "app", APP_RUN_PY, 'build:\n  python_version: "3.11"\n  run:\n'
                           '    - pwd > /build-workdir.txt\nrun: "run.py:Runner"\n')
    tag = unique_tag("cog-e2e-app")
    yield project, tag
    remove_images(cog_bin, tag)


@contextlib.contextmanager
def built_base(cog_bin, directory, prefix, *run_steps):
    """Builds BASE_RUN_PY on Python 3.11 with `run_steps` in `directory` as a base for the app; yields its
    tag, and removes the image afterwards."""
    steps = "".join(f"    - {step}\n" for step in run_steps)
    project = make_project(directory, BASE_RUN_PY,
                           f'build:\n  python_version: "3.11"\n  run:\n{steps}run: "run.py:Runner"\n')
    tag = unique_tag(prefix)
    try:
        cog(cog_bin, "build", NO_COG_BASE, "-t", tag, cwd=project)
        yield tag
    finally:
        remove_images(cog_bin, tag)


def tag_multi_platform_index(layout: pathlib.Path, manifest_digest: str, tag: str):
    """Tags, in `layout`, an index offering the image for linux/amd64 and an arm64 image it lacks."""
    manifest_size = (layout / "blobs/sha256" / manifest_digest.split(":")[1]).stat().st_size
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "0" * 64, "size": 1,
         "platform": {"architecture": "arm64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    digest = rh._write_blob(layout, index)
    top = json.loads((layout / "index.json").read_text())
    top["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest,
                             "size": len(index), "annotations": {"org.opencontainers.image.ref.name": tag}})
    (layout / "index.json").write_text(json.dumps(top))


@pytest.mark.parametrize("source", ["oci", "oci-index", "docker-archive", "registry", "store"])
def test_build_on_a_base_keeps_its_layers_and_runs(cog_bin, base, app, source):
    project, tag = app
    if source == "oci-index":
        tag_multi_platform_index(base["layout"], rh.layout_manifest_digest(base["layout"], "base"), "multi")
    reference = {
        "oci": f"oci:{base['layout']}:base",
        "oci-index": f"oci:{base['layout']}:multi",
        "docker-archive": f"docker-archive:{base['archive']}",
        "registry": f"{base['registry'].host}/bases/python:3.11",
        "store": base["tag"],
    }[source]
    expected = archive_layer_digests(base["archive"]) if source == "docker-archive" else layer_digests(base["manifest"])

    result = cog(cog_bin, "build", "-t", tag, "--base-image", reference, cwd=project)
    assert "warning" not in result.stderr, result.stderr  # python3, libpython and tini all found
    manifest, config = stored_image(tag)
    # The base's layers come first, byte for byte; the build adds the runtime, the run step and the
    # source on top.
    assert layer_digests(manifest)[:len(expected)] == expected
    assert config["rootfs"]["diff_ids"][:len(expected)] == base["config"]["rootfs"]["diff_ids"]
    assert len(manifest["layers"]) == len(expected) + 3, result.stderr
    # Its Env is inherited (as FROM does), ours set on top; our entrypoint and command.
    env = config["config"]["Env"]
    assert "BASE_GREETING=hola" in env and "COG_PREDICT_TYPE_STUB=run.py:Runner" in env
    assert config["config"]["Entrypoint"][0] in ("/usr/bin/tini", "/sbin/tini")
    assert config["config"]["Cmd"] == ["/opt/cog/bin/cog-server"]

    assert cog(cog_bin, "run", tag, "-i", "name=amigo", cwd=project).stdout == "hola amigo from-base /src\n"

    # Unchanged inputs: everything but the source layer comes from the cache, same digest.
    again = cog(cog_bin, "build", "-t", tag, "--base-image", reference, cwd=project)
    assert stored_image(tag)[0] == manifest
    assert "1 layers built" in again.stderr


def test_a_registry_that_cannot_be_reached_falls_back_to_the_mirror(cog_bin, base, app):
    project, tag = app
    unreachable = f"127.0.0.1:{rh.free_port()}/bases/python:3.11"
    failed = cog(cog_bin, "build", "-t", tag, "--base-image", unreachable, cwd=project, check=False)
    assert failed.returncode != 0
    assert f"--base-image {unreachable}" in failed.stderr and "cannot reach" in failed.stderr

    result = cog(cog_bin, "build", "-t", tag, "--base-image", unreachable, cwd=project,
                 env={"COG_REGISTRY_MIRROR": base["registry"].host})
    assert "from the mirror" in result.stderr
    assert layer_digests(stored_image(tag)[0])[:len(base["manifest"]["layers"])] == layer_digests(base["manifest"])


def test_a_base_without_tini_gets_a_static_one(cog_bin, base, app, tmp_path):
    if not os.access("/usr/bin/tini-static", os.X_OK):
        pytest.skip("this machine has no /usr/bin/tini-static (apt-get install tini)")
    project, tag = app
    with built_base(cog_bin, tmp_path / "bare", "cog-e2e-bare", "rm -f /usr/bin/tini /sbin/tini") as bare_tag:
        project.joinpath("run.py").write_text(BASE_RUN_PY)
        cog(cog_bin, "build", "-t", tag, "--base-image", bare_tag, cwd=project)
        config = stored_image(tag)[1]
        assert config["config"]["Entrypoint"] == ["/opt/cog/bin/tini", "--"]
        assert config["config"]["Labels"]["run.cog.has_init"] == "true"
        assert cog(cog_bin, "run", tag, cwd=project).stdout == "base\n"


def test_a_base_with_its_own_python_keeps_it(cog_bin, app, tmp_path):
    # python:*-slim keeps python in /usr/local/bin; our runtime layer must not shadow it with its
    # /usr/local/bin/python -> /usr/bin/python3 link (only Debian bases lack `python`).
    project, tag = app
    with built_base(cog_bin, tmp_path / "own", "cog-e2e-own",
                    'rm -f /usr/local/bin/python && printf "#!/bin/sh\\necho own-python\\n" > /usr/local/bin/python && '
                    'chmod +x /usr/local/bin/python') as own_tag:
        project.joinpath("run.py").write_text(
            "import subprocess\nfrom cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n"
            "    def run(self) -> str:\n"
            "        return subprocess.check_output(['/usr/local/bin/python'], text=True).strip()\n")
        cog(cog_bin, "build", "-t", tag, "--base-image", own_tag, cwd=project)
        assert cog(cog_bin, "run", tag, cwd=project).stdout == "own-python\n"


def hostile_layout(root: pathlib.Path, entries):
    """An OCI layout whose one layer holds `entries` ((name, kind, data_or_target)) as written."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = value
                tar.addfile(info)
    data = raw.getvalue()
    compressed = gzip.compress(data, mtime=0)
    layer_digest = rh._write_blob(root, compressed)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(data).hexdigest()]}}).encode()
    config_digest = rh._write_blob(root, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                                      "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": layer_digest, "size": len(compressed)}]}).encode()
    manifest_digest = rh._write_blob(root, manifest)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
    return layer_digest


def test_missing_broken_and_hostile_bases_are_clear_errors(cog_bin, app, tmp_path):
    project, tag = app

    def fails(reference, *expected):
        result = cog(cog_bin, "build", "-t", tag, "--base-image", reference, cwd=project, check=False)
        assert result.returncode == 1, result.stderr
        assert "cog: error: --base-image" in result.stderr, result.stderr
        for text in expected:
            assert text in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "terminate called" not in result.stderr

    fails(f"oci:{tmp_path / 'nowhere'}", "does not exist")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a tar at all" * 100)
    fails(f"docker-archive:{garbage}")
    fails(f"{base_free_registry()}/nothing/here:1", "cannot reach")

    # A layer blob that does not hash to its digest is refused before anything is unpacked.
    corrupt = tmp_path / "corrupt"
    layer = hostile_layout(corrupt, [("etc/ok", "file", b"fine")])
    (corrupt / "blobs/sha256" / layer.split(":")[1]).write_bytes(gzip.compress(b"tampered", mtime=0))
    fails(f"oci:{corrupt}", "expected " + layer)

    # Hostile layers: nothing outside the root is touched.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    escape = tmp_path / "escape"
    escape.mkdir()
    hostile_layout(escape, [("../../../../../../" + str(tmp_path / "escaped")[1:], "file", b"x")])
    fails(f"oci:{escape}", "..")
    assert not (tmp_path / "escaped").exists()
    whiteout = tmp_path / "whiteout"
    whiteout.mkdir()
    hostile_layout(whiteout, [("../../../../../../" + str(victim.parent)[1:] + "/.wh.victim.txt", "file", b"")])
    fails(f"oci:{whiteout}")
    assert victim.read_text() == "keep"
    # Links out of the root are contained (followed as if the root were /); the base then has no
    # python3, which is the error.
    links = tmp_path / "links"
    links.mkdir()
    hostile_layout(links, [("out", "symlink", str(tmp_path)), ("out/victim.txt", "file", b"overwritten"),
                           ("/abs.txt", "file", b"inside")])
    fails(f"oci:{links}", "no python3")
    assert victim.read_text() == "keep"


def base_free_registry():
    return f"127.0.0.1:{rh.free_port()}"


def test_a_base_with_another_python_is_refused_naming_both(cog_bin, app, tmp_path):
    project, tag = app
    # A python3 first on the PATH that says it is 3.13: the probe runs `python3 --version` in the base.
    with built_base(cog_bin, tmp_path / "other", "cog-e2e-other",
                    "printf '#!/bin/sh\\necho Python 3.13.1\\n' > /usr/local/bin/python3",
                    "chmod 755 /usr/local/bin/python3") as other_tag:
        result = cog(cog_bin, "build", "-t", tag, "--base-image", other_tag, cwd=project, check=False)
        assert result.returncode == 1, result.stderr
        assert f"cog: error: --base-image {other_tag}: the base image has Python 3.13.1, this cog's worker embeds " \
               "Python 3.11" in result.stderr, result.stderr
