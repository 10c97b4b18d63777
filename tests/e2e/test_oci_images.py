"""`cog images` / `cog rmi` against a store that another tool (skopeo) wrote.

The docker-archive is made here with Python's tarfile, skopeo copies it into the store (an OCI
layout), and cog must list it, resolve it, and remove it with its blobs.
"""
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import tarfile

import pytest


def _tar_bytes(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _docker_archive(path: pathlib.Path, tag: str) -> None:
    layer = _tar_bytes({"hello.txt": b"hello\n"})
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["/bin/true"], "Labels": {"run.cog.version": "e2e"}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}])
    path.write_bytes(_tar_bytes({"manifest.json": manifest.encode(), config_name: config,
                                 "layer/layer.tar": layer}))


def _cog(cog_bin, store, *args, check=True):
    env = dict(os.environ, COG_IMAGE_STORE=str(store))
    return subprocess.run([str(cog_bin), *args], env=env, capture_output=True, text=True, check=check)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def test_empty_store_lists_nothing(cog_bin, store):
    result = _cog(cog_bin, store, "images", "-q")
    assert result.stdout == ""
    assert (store / "oci-layout").exists()


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_lists_and_removes_an_image_skopeo_stored(cog_bin, store, tmp_path):
    archive = tmp_path / "image.tar"
    _docker_archive(archive, "demo:v1")
    _cog(cog_bin, store, "images")  # creates the store
    subprocess.run(["skopeo", "copy", f"docker-archive:{archive}", f"oci:{store}:demo:v1"],
                   check=True, capture_output=True)

    assert _cog(cog_bin, store, "images", "-q").stdout.split() == ["demo:v1"]
    table = _cog(cog_bin, store, "images").stdout
    assert "demo:v1" in table and "2024-01-02T03:04:05Z" in table

    missing = _cog(cog_bin, store, "rmi", "nope", check=False)
    assert missing.returncode != 0
    assert missing.stderr.startswith("cog: error: nope")

    blobs = list((store / "blobs" / "sha256").iterdir())
    assert len(blobs) == 3
    _cog(cog_bin, store, "rmi", "demo:v1")
    assert _cog(cog_bin, store, "images", "-q").stdout == ""
    assert list((store / "blobs" / "sha256").iterdir()) == []
    # skopeo still sees a valid (empty) layout.
    index = json.loads((store / "index.json").read_text())
    assert index["manifests"] == []


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_rmi_prunes_the_shared_rootfs_cache_only_from_the_shared_store(cog_bin, tmp_path):
    """The rootfs cache serves every store; a private one (COG_IMAGE_STORE) cannot tell which unpacked
    layers the shared store's images need, so its `cog rmi` leaves the cache alone."""
    archive = tmp_path / "image.tar"
    _docker_archive(archive, "demo:v1")
    home, private, cache = tmp_path / "home", tmp_path / "private", tmp_path / "rootfs"
    shared = home / ".local/share/cog/images"
    orphan = cache / "layers" / ("ab" * 32)  # a layer no image in either store needs
    orphan.mkdir(parents=True)
    env = {name: value for name, value in os.environ.items() if name not in ("XDG_DATA_HOME", "COG_IMAGE_STORE")}
    env.update(HOME=str(home), COG_ROOTFS_CACHE=str(cache), COG_ROOTFS_GRACE_SECONDS="0")

    def cog(store_env, *args):
        return subprocess.run([str(cog_bin), *args], env={**env, **store_env}, capture_output=True, text=True,
                              check=True)

    private_env = {"COG_IMAGE_STORE": str(private)}
    for store, store_env in ((private, private_env), (shared, {})):
        cog(store_env, "images")  # creates the store
        subprocess.run(["skopeo", "copy", f"docker-archive:{archive}", f"oci:{store}:demo:v1"],
                       check=True, capture_output=True)

    removal = cog(private_env, "rmi", "demo:v1")
    assert orphan.exists() and "rootfs cache" not in removal.stdout
    removal = cog({}, "rmi", "demo:v1")
    assert not orphan.exists() and "Removed 1 unpacked layer no image uses from the rootfs cache" in removal.stdout
