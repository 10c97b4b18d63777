"""Dropped connections: a proxy in front of the registry cuts one connection half-way through a
blob. Pushes resume or restart and pulls continue with a Range request; nothing corrupt is ever
stored (skopeo, reading straight from the registry, verifies every digest)."""
import hashlib

import pytest

from cog_cli import private_env, run_cog_with as cog
from registry_helpers import (CuttingProxy, Registry, layout_manifest_digest, make_oci_image, payload, running,
                              skopeo, stats_from)


@pytest.fixture
def env(tmp_path):
    return private_env(tmp_path)


def verify_with_skopeo(registry, repository, image, tmp_path):
    out = tmp_path / "verify"
    skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/{repository}", f"oci:{out}:x")
    assert layout_manifest_digest(out, "x") == image["manifest"]


@pytest.mark.parametrize("chunked", [False, True], ids=["monolithic", "chunked"])
def test_push_survives_a_connection_cut_mid_blob(cog_bin, env, tmp_path, chunked):
    image = make_oci_image(tmp_path / "src", "v1", [payload(60, 2_000_000), payload(61, 10_000)])
    push_env = dict(env)
    if chunked:
        push_env.update(COG_PUSH_MULTIPART_THRESHOLD="500000", COG_PUSH_DEFAULT_CHUNK_SIZE="400000")
    with running(Registry(tmp_path / "reg")) as registry:
        proxy = CuttingProxy(registry.port, cut_after=900_000, cut_direction="up").start()
        try:
            result = cog(cog_bin, push_env, "--debug", "push", f"{proxy.host}/cut/model:v1",
                         "--from", f"oci:{tmp_path / 'src'}:v1")
        finally:
            proxy.stop()
        assert proxy.cuts_done == 1
        stats = stats_from(result.stderr)
        assert stats["retries"] >= 1 and stats["blobs_uploaded"] == 3
        verify_with_skopeo(registry, "cut/model:v1", image, tmp_path)


def test_pull_resumes_after_a_cut_with_a_range_request(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(70, 2_000_000)])
    with running(Registry(tmp_path / "reg")) as registry:
        skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{tmp_path / 'src'}:v1",
               f"docker://{registry.host}/cut/pull:v1")
        proxy = CuttingProxy(registry.port, cut_after=800_000, cut_direction="down").start()
        try:
            out = tmp_path / "out"
            result = cog(cog_bin, env, "--debug", "pull", f"{proxy.host}/cut/pull:v1", "--output", f"oci:{out}:v1")
        finally:
            proxy.stop()
        assert proxy.cuts_done == 1
        stats = stats_from(result.stderr, "pull")
        assert stats["resumed"] >= 1 and stats["blobs_downloaded"] == 2
        total = sum(image["blobs"].values())
        assert total <= stats["bytes_downloaded"] < total + 900_000  # no full restart of the big blob
        assert layout_manifest_digest(out, "v1") == image["manifest"]
        for digest in image["blobs"]:
            data = (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()
            assert "sha256:" + hashlib.sha256(data).hexdigest() == digest


def test_pull_continues_a_partial_file_and_rejects_a_corrupt_one(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(80, 1_000_000)])
    layer = [d for d in image["blobs"] if d != image["config"]][0]
    layer_bytes = (tmp_path / "src" / "blobs" / "sha256" / layer.split(":")[1]).read_bytes()
    with running(Registry(tmp_path / "reg")) as registry:
        skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{tmp_path / 'src'}:v1",
               f"docker://{registry.host}/partial/image:v1")
        out = tmp_path / "out"
        partial = out / ".cog-partial" / layer.split(":")[1]
        partial.parent.mkdir(parents=True)
        partial.write_bytes(layer_bytes[:400_000])  # an earlier run stopped here
        result = cog(cog_bin, env, "--debug", "pull", f"{registry.host}/partial/image:v1", "--output", f"oci:{out}:v1")
        stats = stats_from(result.stderr, "pull")
        assert stats["resumed"] == 1
        assert stats["bytes_downloaded"] == len(layer_bytes) - 400_000 + image["blobs"][image["config"]]
        assert (out / "blobs" / "sha256" / layer.split(":")[1]).read_bytes() == layer_bytes
        assert not partial.exists()

        other = tmp_path / "other"
        bad = other / ".cog-partial" / layer.split(":")[1]
        bad.parent.mkdir(parents=True)
        bad.write_bytes(b"\0" * 400_000)  # not a prefix of the blob
        failed = cog(cog_bin, env, "pull", f"{registry.host}/partial/image:v1", "--output", f"oci:{other}:v1", check=False)
        assert failed.returncode == 1 and layer in failed.stderr
        assert not (other / "blobs" / "sha256" / layer.split(":")[1]).exists() and not bad.exists()
        cog(cog_bin, env, "pull", f"{registry.host}/partial/image:v1", "--output", f"oci:{other}:v1")
        assert layout_manifest_digest(other, "v1") == image["manifest"]
