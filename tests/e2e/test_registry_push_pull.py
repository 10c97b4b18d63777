"""cog push / cog pull against a real docker-registry on 127.0.0.1, with skopeo as the peer."""
import json

import pytest

from cog_cli import private_env, pushed_digest, run_cog_with as cog
from registry_helpers import (CuttingProxy, Registry, layout_manifest_digest, make_oci_image, payload,
                              running, skopeo, skopeo_digest, stats_from)


@pytest.fixture
def env(tmp_path):
    return private_env(tmp_path, COG_PUSH_CONCURRENCY="3")


def three_layers(seed=1):
    return [payload(seed, 200_000), payload(seed + 1, 300_000), payload(seed + 2, 1_500_000)]


def test_push_then_skopeo_pulls_the_same_digest(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", three_layers())
    with running(Registry(tmp_path / "reg")) as registry:
        result = cog(cog_bin, env, "--debug", "push", f"{registry.host}/team/model:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
        assert f"Pushing to {registry.host}/team/model:v1..." in result.stderr
        assert pushed_digest(result.stderr) == image["manifest"]
        stats = stats_from(result.stderr)
        assert stats["blobs_uploaded"] == 4 and stats["blobs_existing"] == 0

        assert skopeo_digest(f"docker://{registry.host}/team/model:v1", "--tls-verify=false") == image["manifest"]
        skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/team/model:v1", f"oci:{tmp_path / 'back'}:v1")
        assert layout_manifest_digest(tmp_path / "back", "v1") == image["manifest"]
        for digest in image["blobs"]:
            assert (tmp_path / "back" / "blobs" / "sha256" / digest.split(":")[1]).exists()

        # The same push again sends no blob at all.
        again = cog(cog_bin, env, "--debug", "push", f"{registry.host}/team/model:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
        stats = stats_from(again.stderr)
        assert stats["blobs_uploaded"] == 0 and stats["blobs_existing"] == 4 and stats["bytes_uploaded"] == 0


def test_skopeo_push_then_cog_pull_verifies_and_caches(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", three_layers(seed=7))
    with running(Registry(tmp_path / "reg")) as registry:
        skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{tmp_path / 'src'}:v1",
               f"docker://{registry.host}/pulled/image:v1")
        out = tmp_path / "out"
        first = cog(cog_bin, env, "--debug", "pull", f"{registry.host}/pulled/image:v1", "--output", f"oci:{out}:mine")
        assert f"Digest: {image['manifest']}" in first.stderr
        assert layout_manifest_digest(out, "mine") == image["manifest"]
        for digest, size in image["blobs"].items():
            blob = out / "blobs" / "sha256" / digest.split(":")[1]
            assert blob.stat().st_size == size
        assert stats_from(first.stderr, "pull")["blobs_downloaded"] == 4

        second = cog(cog_bin, env, "--debug", "pull", f"{registry.host}/pulled/image:v1", "--output", f"oci:{out}:mine")
        stats = stats_from(second.stderr, "pull")
        assert stats["blobs_downloaded"] == 0 and stats["bytes_downloaded"] == 0

        # skopeo reads what we wrote: the layout is a valid OCI layout with intact blobs.
        skopeo("copy", f"oci:{out}:mine", f"oci:{tmp_path / 'check'}:x")

        missing = cog(cog_bin, env, "pull", f"{registry.host}/pulled/image:nope", "--output", f"oci:{out}:x", check=False)
        assert missing.returncode == 1
        assert f"{registry.host}/pulled/image" in missing.stderr and "MANIFEST_UNKNOWN" in missing.stderr


def test_pull_picks_the_platform_from_an_index(cog_bin, env, tmp_path):
    amd = make_oci_image(tmp_path / "src", "amd", [payload(11, 1000)])
    arm = make_oci_image(tmp_path / "src", "arm", [payload(12, 1000)])
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm["manifest"], "size": arm["size"],
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd["manifest"], "size": amd["size"],
         "platform": {"os": "linux", "architecture": "amd64"}}]}
    with running(Registry(tmp_path / "reg")) as registry:
        ours = tmp_path / "multi"
        make_oci_image(ours, "unused", [b"x"])
        data = json.dumps(index).encode()
        import hashlib
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        (ours / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        for image in (amd, arm):  # the children's blobs, copied over
            for blob in [image["manifest"], *image["blobs"]]:
                name = blob.split(":")[1]
                (ours / "blobs" / "sha256" / name).write_bytes((tmp_path / "src" / "blobs" / "sha256" / name).read_bytes())
        (ours / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": len(data),
             "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}))
        pushed = cog(cog_bin, env, "push", f"{registry.host}/multi/image:latest", "--from", f"oci:{ours}:multi")
        assert pushed_digest(pushed.stderr) == digest
        assert skopeo_digest(f"docker://{registry.host}/multi/image:latest", "--tls-verify=false") == digest

        default = cog(cog_bin, env, "pull", f"{registry.host}/multi/image", "--output", f"oci:{tmp_path / 'a'}")
        assert f"Digest: {amd['manifest']}" in default.stderr
        arm_pull = cog(cog_bin, env, "pull", f"{registry.host}/multi/image", "--platform", "linux/arm64",
                       "--output", f"oci:{tmp_path / 'b'}")
        assert f"Digest: {arm['manifest']}" in arm_pull.stderr
        none = cog(cog_bin, env, "pull", f"{registry.host}/multi/image", "--platform", "linux/s390x",
                   "--output", f"oci:{tmp_path / 'c'}", check=False)
        assert none.returncode == 1 and "linux/arm64/v8" in none.stderr and "linux/amd64" in none.stderr


def test_repush_with_one_changed_layer_uploads_only_that_layer(cog_bin, env, tmp_path):
    layers = three_layers(seed=20)
    v1 = make_oci_image(tmp_path / "src", "v1", layers)
    v2 = make_oci_image(tmp_path / "src", "v2", layers[:2] + [payload(99, 1_500_000)])
    changed = set(v2["blobs"]) - set(v1["blobs"])
    assert len(changed) == 2  # the new layer and the new config
    with running(Registry(tmp_path / "reg")) as registry:
        proxy = CuttingProxy(registry.port).start()
        try:
            target = f"{proxy.host}/team/model"
            cog(cog_bin, env, "push", f"{target}:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
            before_bytes, before_puts = proxy.bytes_up, proxy.count("PUT", "/blobs/uploads/")
            result = cog(cog_bin, env, "--debug", "push", f"{target}:v2", "--from", f"oci:{tmp_path / 'src'}:v2")
            stats = stats_from(result.stderr)
            assert stats["blobs_uploaded"] == 2 and stats["blobs_existing"] == 2
            assert stats["bytes_uploaded"] == sum(v2["blobs"][d] for d in changed)
            # Independently of our counters: two blob uploads went through the wire, and about
            # the size of the changed blobs, not the whole image.
            assert proxy.count("PUT", "/blobs/uploads/") - before_puts == 2
            sent = proxy.bytes_up - before_bytes
            assert sum(v2["blobs"][d] for d in changed) <= sent < sum(v2["blobs"][d] for d in changed) + 100_000
        finally:
            proxy.stop()
        assert skopeo_digest(f"docker://{registry.host}/team/model:v2", "--tls-verify=false") == v2["manifest"]


def test_push_to_another_repository_mounts_the_blobs(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", three_layers(seed=30))
    with running(Registry(tmp_path / "reg")) as registry:
        cog(cog_bin, env, "push", f"{registry.host}/first/model:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
        result = cog(cog_bin, env, "--debug", "push", f"{registry.host}/second/model:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
        stats = stats_from(result.stderr)
        assert stats["blobs_mounted"] == 4 and stats["blobs_uploaded"] == 0 and stats["bytes_uploaded"] == 0
        assert "Mounted from first/model" in result.stderr
        assert skopeo_digest(f"docker://{registry.host}/second/model:v1", "--tls-verify=false") == image["manifest"]


def test_chunked_push_is_byte_identical(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(40, 700_000), payload(41, 50)])
    chunked = {**env, "COG_PUSH_MULTIPART_THRESHOLD": "100000", "COG_PUSH_DEFAULT_CHUNK_SIZE": "150000"}
    with running(Registry(tmp_path / "reg")) as registry:
        proxy = CuttingProxy(registry.port).start()
        try:
            cog(cog_bin, chunked, "push", f"{proxy.host}/chunks/model:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
            assert proxy.count("PATCH", "/blobs/uploads/") >= 5  # 700 kB in 150 kB chunks
        finally:
            proxy.stop()
        skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/chunks/model:v1", f"oci:{tmp_path / 'back'}:v1")
        assert layout_manifest_digest(tmp_path / "back", "v1") == image["manifest"]


def test_push_resolves_the_target_like_cog(cog_bin, env, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "cog.yaml").write_text("build:\n  python_version: '3.12'\n")
    missing = cog(cog_bin, env, "push", cwd=project, check=False)
    assert missing.returncode == 1
    assert "To push images, you must either set the 'image' option in cog.yaml" in missing.stderr

    image = make_oci_image(tmp_path / "src", "v1", [payload(50, 1000)])
    with running(Registry(tmp_path / "reg")) as registry:
        (project / "cog.yaml").write_text(f"build:\n  python_version: '3.12'\nimage: {registry.host}/from/yaml\n")
        result = cog(cog_bin, env, "push", "--from", f"oci:{tmp_path / 'src'}:v1", cwd=project)
        assert f"Pushing to {registry.host}/from/yaml:latest..." in result.stderr
        assert skopeo_digest(f"docker://{registry.host}/from/yaml:latest", "--tls-verify=false") == image["manifest"]

        not_built = cog(cog_bin, env, "push", cwd=project, check=False)
        assert not_built.returncode == 1 and "no such image in the local image store" in not_built.stderr


def test_pull_into_the_image_store_then_push_from_it(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(90, 30_000), payload(91, 20_000)])
    with running(Registry(tmp_path / "reg")) as registry:
        skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{tmp_path / 'src'}:v1",
               f"docker://{registry.host}/store/image:v1")
        cog(cog_bin, env, "pull", f"{registry.host}/store/image:v1")
        assert layout_manifest_digest(tmp_path / "store", f"{registry.host}/store/image:v1") == image["manifest"]
        result = cog(cog_bin, env, "--debug", "push", f"{registry.host}/store/image:v1")
        assert pushed_digest(result.stderr) == image["manifest"]
        stats = stats_from(result.stderr)
        assert stats["blobs_existing"] == 3 and stats["blobs_uploaded"] == 0


def test_docker_schema2_images_pull_and_push_back_unchanged(cog_bin, env, tmp_path):
    make_oci_image(tmp_path / "src", "v1", [payload(95, 40_000)])
    with running(Registry(tmp_path / "reg")) as registry:
        skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", f"oci:{tmp_path / 'src'}:v1",
               f"docker://{registry.host}/docker/fmt:v1")
        served = skopeo_digest(f"docker://{registry.host}/docker/fmt:v1", "--tls-verify=false")
        out = tmp_path / "out"
        pulled = cog(cog_bin, env, "pull", f"{registry.host}/docker/fmt:v1", "--output", f"oci:{out}:v1")
        assert f"Digest: {served}" in pulled.stderr
        index = json.loads((out / "index.json").read_text())
        assert index["manifests"][0]["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
        pushed = cog(cog_bin, env, "--debug", "push", f"{registry.host}/docker/copy:v1", "--from", f"oci:{out}:v1")
        assert pushed_digest(pushed.stderr) == served
        assert stats_from(pushed.stderr)["blobs_mounted"] == 2  # the pull remembered where they came from
        assert skopeo_digest(f"docker://{registry.host}/docker/copy:v1", "--tls-verify=false") == served
