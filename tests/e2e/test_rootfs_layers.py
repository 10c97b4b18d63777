"""The rootfs cache unpacks each layer once, by diff ID, and mounts an image as an overlay of its
layers: images sharing layers share them on disk, and deletions made by a later layer (whiteouts,
opaque directories) hold inside the container. Each test uses its own cache (COG_ROOTFS_CACHE)."""
import json
import os
import stat
import subprocess

import pytest

from cog_cli import remove_images, run_cog, store_ref, unique_tag

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

RUN_PY = '''from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return "{word}"
'''


# cog-base's package layer (test_cog_base.py) is not what these tests are about; unpacked into each
# test's private cache it would be ~2 GB more per test.
NO_COG_BASE = "--use-cog-base-image=false"


def cog(cog_bin, *args, cwd, cache, grace=None):
    """cog with its rootfs cache in `cache` and no stdin; a failure raises."""
    env = {"COG_ROOTFS_CACHE": str(cache)}
    if grace is not None:
        env["COG_ROOTFS_GRACE_SECONDS"] = str(grace)
    return run_cog(cog_bin, *args, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def diff_ids(tag):
    config = subprocess.run(["skopeo", "inspect", "--config", store_ref(tag)], capture_output=True, text=True,
                            check=True).stdout
    return [d.split(":", 1)[1] for d in json.loads(config)["rootfs"]["diff_ids"]]


def make_project(root, name, word, run_steps=()):
    project = root / name
    project.mkdir()
    steps = "".join(f"    - {step}\n" for step in run_steps)
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\n' + (f"  run:\n{steps}" if steps else "") +
                                      'run: "run.py:Runner"\n')
    (project / "run.py").write_text(RUN_PY.format(word=word))
    return project


@pytest.fixture
def tags(cog_bin):
    names = []
    yield lambda: names.append(unique_tag("cog-e2e-layers")) or names[-1]
    remove_images(cog_bin, *names)


def test_images_sharing_layers_unpack_them_once(cog_bin, tmp_path, tags):
    cache = tmp_path / "rootfs"
    first, second = tags(), tags()
    cog(cog_bin, "build", NO_COG_BASE, "-t", first, cwd=make_project(tmp_path, "a", "first"), cache=cache)
    cog(cog_bin, "build", NO_COG_BASE, "-t", second, cwd=make_project(tmp_path, "b", "second"), cache=cache)
    first_layers, second_layers = diff_ids(first), diff_ids(second)
    shared = set(first_layers) & set(second_layers)
    assert shared and first_layers[-1] != second_layers[-1]  # base and runtime shared, sources differ

    assert cog(cog_bin, "run", first, cwd=tmp_path, cache=cache).stdout == "first\n"
    layers = cache / "layers"
    assert sorted(p.name for p in layers.iterdir()) == sorted(first_layers)
    before = {name: (layers / name).stat().st_ino for name in shared}

    assert cog(cog_bin, "run", second, cwd=tmp_path, cache=cache).stdout == "second\n"
    assert sorted(p.name for p in layers.iterdir()) == sorted(set(first_layers) | set(second_layers))
    # The shared layers were not unpacked again (the same directories), and nothing else is cached.
    assert {name: (layers / name).stat().st_ino for name in shared} == before
    assert sorted(p.name for p in cache.iterdir()) == ["layers"]

    # cog rmi: within the grace period (a build or container may be using them) nothing goes; after
    # it, the layers only the removed image had go, the shared ones stay for the other image.
    removal = cog(cog_bin, "rmi", first, cwd=tmp_path, cache=cache)
    assert "Removed" not in removal.stdout
    assert sorted(p.name for p in layers.iterdir()) == sorted(set(first_layers) | set(second_layers))
    cog(cog_bin, "build", NO_COG_BASE, "-t", first, cwd=tmp_path / "a", cache=cache)  # the same image again
    removal = cog(cog_bin, "rmi", first, cwd=tmp_path, cache=cache, grace=0)
    assert "Removed 1 unpacked layer no image uses" in removal.stdout, removal.stdout
    assert sorted(p.name for p in layers.iterdir()) == sorted(second_layers)


def test_deletions_in_a_later_layer_hold_in_the_container(cog_bin, tmp_path):
    cache = tmp_path / "rootfs"
    project = make_project(tmp_path, "deletes", "x", run_steps=[
        "rm /etc/debian_version",
        "rm -rf /usr/share/doc && mkdir /usr/share/doc && touch /usr/share/doc/only-this",
    ])
    result = cog(cog_bin, "exec", NO_COG_BASE, "--progress", "quiet", "sh", "-c",
                 "test -e /etc/debian_version && echo present || echo gone; ls /usr/share/doc; "
                 "test -e /etc/os-release && echo kept",
                 cwd=project, cache=cache)
    assert result.stdout == "gone\nonly-this\nkept\n"
    # In the cache the deletion is an overlayfs whiteout: a 0/0 character device in the step's layer.
    whiteouts = [p for p in (cache / "layers").glob("*/etc/debian_version") if stat.S_ISCHR(p.lstat().st_mode)]
    assert len(whiteouts) == 1 and whiteouts[0].lstat().st_rdev == os.makedev(0, 0)
