"""Two `cog build`s and `cog run`s at once over one image store and one cache, as a CI runner building
two models does: no layer in the store is corrupt (every blob hashes to its name, every layer is a
readable tar), no tag is lost to a concurrent index update, and no run sees a half-unpacked rootfs
(each prints its image's output). The builds share a `run` step, so both make the same layer at the
same time and store it under the same cache key. Needs root; the base comes from the cache the suite
shares (the first build of the suite made it)."""
import concurrent.futures
import hashlib
import json
import os
import tarfile
import uuid

import pytest

from cog_cli import make_project, run_cog as cog, unique_tag

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

RUN_PY = '''from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return open("/opt/shared.txt").read().strip() + " " + NAME


NAME = "{name}"
'''

ROUNDS = 2


def cog_yaml(marker):
    return ('build:\n  python_version: "3.11"\n  run:\n'
            f'    - "echo {marker} > /opt/shared.txt && head -c 3000000 /dev/urandom > /opt/noise.bin"\n'
            'run: "run.py:Runner"\n')


def store_tags(store):
    index = json.loads((store / "index.json").read_text())
    return {entry["annotations"]["org.opencontainers.image.ref.name"]: entry["digest"]
            for entry in index["manifests"] if "org.opencontainers.image.ref.name" in entry.get("annotations", {})}


def blob(store, digest):
    return store / "blobs" / "sha256" / digest.split(":", 1)[1]


def check_image(store, manifest_digest):
    """Every blob of the image is present and hashes to its digest; every layer is a whole tar."""
    manifest_bytes = blob(store, manifest_digest).read_bytes()
    assert "sha256:" + hashlib.sha256(manifest_bytes).hexdigest() == manifest_digest
    manifest = json.loads(manifest_bytes)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        data = blob(store, descriptor["digest"]).read_bytes()
        assert len(data) == descriptor["size"], descriptor
        assert "sha256:" + hashlib.sha256(data).hexdigest() == descriptor["digest"], descriptor
    for layer in manifest["layers"]:
        with tarfile.open(blob(store, layer["digest"])) as tar:  # reads every member to the end
            for member in tar:
                if member.isfile():
                    tar.extractfile(member).read()


@pytest.fixture
def store(tmp_path, cog_bin):
    store = tmp_path / "store"
    yield store
    for name in list(store_tags(store)) if (store / "index.json").exists() else []:
        cog(cog_bin, "rmi", name, env={"COG_IMAGE_STORE": str(store)}, check=False)


def test_two_builds_and_runs_at_once_share_store_and_cache(cog_bin, store, tmp_path):
    env = {"COG_IMAGE_STORE": str(store)}
    marker = f"shared-{uuid.uuid4().hex[:8]}"  # a layer no earlier run has cached
    projects = {name: make_project(tmp_path / name, RUN_PY.format(name=name), cog_yaml(marker))
                for name in ("alpha", "beta", "gamma")}
    tags = {name: unique_tag(f"cog-e2e-concurrent-{name}") for name in projects}
    # gamma is built first so that it can run while the others build; its own layers are unpacked
    # for the first time by the runs below, two at once.
    cog(cog_bin, "build", "-t", tags["gamma"], cwd=projects["gamma"], env=env)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for round_ in range(ROUNDS):
            for name in ("alpha", "beta"):  # a new source layer each round
                (projects[name] / "round.txt").write_text(str(round_))
            jobs = {
                "build alpha": pool.submit(cog, cog_bin, "build", "-t", tags["alpha"], cwd=projects["alpha"], env=env),
                "build beta": pool.submit(cog, cog_bin, "build", "-t", tags["beta"], cwd=projects["beta"], env=env),
                "run gamma": pool.submit(cog, cog_bin, "run", tags["gamma"], cwd=tmp_path, env=env),
                "run gamma again": pool.submit(cog, cog_bin, "run", tags["gamma"], cwd=tmp_path, env=env),
            }
            results = {what: job.result() for what, job in jobs.items()}  # raises if any cog failed
            assert results["run gamma"].stdout == f"{marker} gamma\n", results["run gamma"].stderr
            assert results["run gamma again"].stdout == f"{marker} gamma\n", results["run gamma again"].stderr

            stored = store_tags(store)
            for name, tag in tags.items():
                assert f"{tag}:latest" in stored, f"{tag} was lost from the store: {sorted(stored)}"
                check_image(store, stored[f"{tag}:latest"])
            # Both builds made the shared run-step layer: it is the same blob in both images.
            layers = {name: json.loads(blob(store, stored[f"{tags[name]}:latest"]).read_bytes())["layers"]
                      for name in tags}
            assert layers["alpha"][:-1] == layers["beta"][:-1] == layers["gamma"][:-1]

    for name in ("alpha", "beta"):
        assert cog(cog_bin, "run", tags[name], cwd=tmp_path, env=env).stdout == f"{marker} {name}\n"
