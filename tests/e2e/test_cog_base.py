"""Issue #13, class 4: Cog's images start from r8.im/cog-base, which carries ffmpeg, libgl1, sox,
build tools and more; models rely on them. Our builds give the same Debian packages as one layer
over the base, shared by every model on that base, unless --use-cog-base-image=false.
Each image is built once (the package layer is large) and shared by the module's tests.
Needs root (runc, overlayfs) and Debian's mirror."""
import os

import pytest

from cog_cli import make_project, run_cog as cog, tags_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")

# A build step records whether ffmpeg ran at build time; run() reports that and whether it runs now.
COG_YAML = '''build:
  python_version: "3.11"
  run:
    - "if ffmpeg -version >/dev/null 2>&1; then echo ffmpeg-at-build > /build-ffmpeg.txt; else echo none-at-build > /build-ffmpeg.txt; fi"
run: "run.py:Runner"
'''

RUN_PY = '''import subprocess

from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        at_build = open("/build-ffmpeg.txt").read().strip()
        try:
            first = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout
            now = first.split()[0] + "-at-run"
        except FileNotFoundError:
            now = "none-at-run"
        return at_build + " " + now
'''

tags = tags_fixture("cog-e2e-cogbase")


def build(cog_bin, project, tag, *flags):
    return cog(cog_bin, "build", "-t", tag, "--progress", "plain", *flags, cwd=project, timeout=1800)


@pytest.fixture(scope="module")
def default_image(cog_bin, tmp_path_factory, tags):
    project = make_project(tmp_path_factory.mktemp("cogbase") / "model", RUN_PY, cog_yaml=COG_YAML)
    tag = tags()
    result = build(cog_bin, project, tag)
    return tag, result


@pytest.fixture(scope="module")
def plain_image(cog_bin, tmp_path_factory, tags):
    project = make_project(tmp_path_factory.mktemp("plain") / "model", RUN_PY, cog_yaml=COG_YAML)
    tag = tags()
    result = build(cog_bin, project, tag, "--use-cog-base-image=false")
    return tag, result


def test_default_build_has_ffmpeg_in_run_steps_and_at_predict_time(cog_bin, default_image, tmp_path):
    tag, built = default_image
    assert "cog-base packages" in built.stderr, built.stderr
    result = cog(cog_bin, "run", tag, cwd=tmp_path)
    assert result.stdout == "ffmpeg-at-build ffmpeg-at-run\n", result.stderr


def test_false_adds_nothing(cog_bin, plain_image, tmp_path):
    tag, built = plain_image
    assert "cog-base packages" not in built.stderr, built.stderr
    result = cog(cog_bin, "run", tag, cwd=tmp_path)
    assert result.stdout == "none-at-build none-at-run\n", result.stderr


def test_bare_flag_means_true_and_another_model_shares_the_layer(cog_bin, default_image, tmp_path, tags):
    # Another model (other code, another system package) on the same base: the package layer is
    # the default image's, reused from the cache, not installed again.
    other = make_project(tmp_path / "other", RUN_PY.replace("-at-run", "-now"),
                         cog_yaml=COG_YAML.replace('  run:\n', '  system_packages:\n    - "ffmpeg"\n  run:\n'))
    tag = tags()
    built = build(cog_bin, other, tag, "--use-cog-base-image")
    assert "CACHED cog-base packages" in built.stderr, built.stderr
    # ffmpeg is in the cog-base layer, so system_packages has nothing left to install (as in Cog).
    assert "apt-get install ffmpeg" not in built.stderr, built.stderr
    result = cog(cog_bin, "run", tag, cwd=tmp_path)
    assert result.stdout == "ffmpeg-at-build ffmpeg-now\n", result.stderr
    # =true is the same flag.
    again = build(cog_bin, other, tag, "--use-cog-base-image=true")
    assert "CACHED cog-base packages" in again.stderr, again.stderr


def test_flag_value_other_than_a_boolean_is_a_usage_error(cog_bin, tmp_path):
    project = make_project(tmp_path / "model", RUN_PY, cog_yaml=COG_YAML)
    result = cog(cog_bin, "build", "--use-cog-base-image=maybe", cwd=project, check=False)
    assert result.returncode != 0
    assert "--use-cog-base-image" in result.stderr and "maybe" in result.stderr, result.stderr


@pytest.mark.parametrize("flags, from_line", [
    ([], "FROM r8.im/cog-base:python3.11\n"),
    (["--use-cog-base-image"], "FROM r8.im/cog-base:python3.11\n"),
    (["--use-cog-base-image=true"], "FROM r8.im/cog-base:python3.11\n"),
    (["--use-cog-base-image=false"], "FROM python:3.11-slim\n"),
])
def test_debug_writes_the_from_line_cog_would(cog_bin, tmp_path, flags, from_line):
    project = make_project(tmp_path / "model", RUN_PY, cog_yaml=COG_YAML)
    env = {name: "" for name in ("COG_REGISTRY_HOST", "COG_SDK_WHEEL", "COGLET_WHEEL", "COG_CA_CERT")}
    result = cog(cog_bin, "debug", *flags, cwd=project, env=env)
    assert from_line in result.stdout, result.stdout


def test_an_explicit_flag_for_a_combination_cog_publishes_no_base_for_fails(cog_bin, tmp_path):
    # Cog publishes no cog-base with torch < 1.13.1: asked for explicitly, that is an error; not
    # asked for, Cog's warning, and no package layer.
    project = make_project(tmp_path / "model", RUN_PY, cog_yaml=COG_YAML.replace(
        'python_version: "3.11"\n', 'python_version: "3.11"\n  python_requirements: requirements.txt\n'))
    (project / "requirements.txt").write_text("torch==1.12.1\n")
    result = cog(cog_bin, "build", "--use-cog-base-image", cwd=project, check=False)
    assert result.returncode == 1
    assert "unsupported base image configuration: CUDA:  / Python: 3.11 / Torch: 1.12.1" in result.stderr, \
        result.stderr
    debug = cog(cog_bin, "debug", cwd=project, check=False)
    assert "Could not find a suitable base image" in debug.stderr and "FROM python:3.11-slim\n" in debug.stdout, \
        debug.stderr


def test_another_image_store_adopts_the_layer_instead_of_remaking_it(cog_bin, default_image, tmp_path):
    # The layer is ~2 GB unpacked: a build into another image store (COG_IMAGE_STORE) links the
    # one made before instead of installing and packing it again.
    project = make_project(tmp_path / "model", RUN_PY, cog_yaml=COG_YAML)
    env = {"COG_IMAGE_STORE": str(tmp_path / "store")}
    built = cog(cog_bin, "build", "-t", "elsewhere", "--progress", "plain", cwd=project, env=env, timeout=1800)
    assert "CACHED cog-base packages" in built.stderr, built.stderr
    result = cog(cog_bin, "run", "elsewhere", cwd=tmp_path, env=env)
    assert result.stdout == "ffmpeg-at-build ffmpeg-at-run\n", result.stderr


def test_dev_image_commands_take_the_flag_as_cog_build_does(cog_bin, default_image, tmp_path):
    # cog exec / cog run without an image build the development image: the flag decides its base
    # there too (the default shares the cog-base layer the default image made).
    project = make_project(tmp_path / "dev", RUN_PY, cog_yaml=COG_YAML)
    probe = ["sh", "-c", "command -v ffmpeg >/dev/null && echo has-ffmpeg || echo no-ffmpeg"]
    plain = cog(cog_bin, "exec", "--use-cog-base-image=false", *probe, cwd=project, timeout=1800)
    assert plain.stdout.strip().endswith("no-ffmpeg"), plain.stdout + plain.stderr
    default = cog(cog_bin, "exec", *probe, cwd=project, timeout=1800)
    assert default.stdout.strip().endswith("has-ffmpeg"), default.stdout + default.stderr
    ran = cog(cog_bin, "run", "--use-cog-base-image=false", cwd=project, timeout=1800)
    assert ran.stdout == "none-at-build none-at-run\n", ran.stderr
