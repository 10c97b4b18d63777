"""cog build --push (a real docker-registry, checked with skopeo), --load (docker, when the fixture
can start a private dockerd), --progress (the live view on a pseudo-terminal, plain lines
otherwise), -o (which transports, and the names written) and --openapi-schema (what is accepted). Needs root, like every build; the Debian base is cached after the first build."""
import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import tarfile
import termios
import time
import uuid

import pytest

from cog_cli import image_digest, make_project, pushed_digest, remove_images, run_cog, store_ref, unique_tag
from docker_helpers import docker_daemon  # noqa: F401  (the fixture)
from registry_helpers import Registry, running

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building images needs root")

RUN_PY = '''from cog import BaseRunner


class Runner(BaseRunner):
    def run(self, name: str = "world") -> str:
        return "hello " + name
'''

ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Builds that push to a registry, load into docker or write archives leave out cog-base's package layer
# (test_cog_base.py): each copy of it would be ~2 GB, and it is not what these tests are about.
NO_COG_BASE = "--use-cog-base-image=false"


def cog_environ(**extra):
    """This process's environment for cog: reproducible builds, no update check, and no
    BUILDKIT_PROGRESS from the caller's shell (these tests choose the progress view)."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", COG_NO_UPDATE_CHECK="1", **extra)
    env.pop("BUILDKIT_PROGRESS", None)
    return env


def cog(cog_bin, *args, cwd, check=True, env=None):
    return run_cog(cog_bin, *args, cwd=cwd, check=check, base_env=cog_environ(), env=env, timeout=600)


def skopeo_inspect(reference: str) -> dict:
    result = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "hello", RUN_PY)


@pytest.fixture
def cleanup(cog_bin):
    """Names of images this test put in the local store, removed afterwards."""
    names = []
    yield names
    remove_images(cog_bin, *names)


# ------------------------------------------------------------------------------------- --push

def test_push_sends_the_built_image_to_the_registry_in_its_name(cog_bin, project, cleanup, tmp_path):
    with running(Registry(tmp_path / "registry")) as registry:
        target = f"{registry.host}/models/hello-{uuid.uuid4().hex[:6]}:v1"
        cleanup.append(target)
        result = cog(cog_bin, "build", NO_COG_BASE, "-t", target, "--push", "--progress", "plain", cwd=project)
        assert f"Pushing to {target}..." in result.stderr
        digest = image_digest(result.stderr)
        assert pushed_digest(result.stderr) == digest  # what was built is what was pushed
        inspect = skopeo_inspect(target)
        assert inspect["Digest"] == digest
        assert "run.cog.openapi_schema" in inspect["Labels"]


def test_push_takes_the_name_from_cog_yaml(cog_bin, project, cleanup, tmp_path):
    with running(Registry(tmp_path / "registry")) as registry:
        image = f"{registry.host}/from/yaml"
        cleanup.append(image)
        (project / "cog.yaml").write_text(
            f'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\nimage: {image}\n')
        result = cog(cog_bin, "build", NO_COG_BASE, "--push", "--progress", "quiet", cwd=project)
        assert f"Pushing to {image}:latest..." in result.stderr
        assert skopeo_inspect(image)["Digest"] == pushed_digest(result.stderr)


def test_cog_push_takes_builds_flags_for_its_build(cog_bin, project, cleanup, tmp_path):
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\n  run:\n'
        '    - command: test "$(cat /run/secrets/token)" = sesame\n'
        '      mounts:\n        - type: secret\n          id: token\n          target: /run/secrets/token\n'
        'run: "run.py:Runner"\n')
    (tmp_path / "token.txt").write_text("sesame")
    with running(Registry(tmp_path / "registry")) as registry:
        target = f"{registry.host}/models/secret-{uuid.uuid4().hex[:6]}"
        cleanup.append(target)
        missing = cog(cog_bin, "push", target, NO_COG_BASE, "--progress", "plain", cwd=project, check=False)
        # Without --secret the step runs without the file (BuildKit's behaviour), so its test fails.
        assert missing.returncode == 1 and 'secret "token" was not given' in missing.stderr
        pushed = cog(cog_bin, "push", target, NO_COG_BASE, "--progress", "plain",
                     "--secret", f"id=token,src={tmp_path / 'token.txt'}", cwd=project)
        assert skopeo_inspect(target)["Digest"] == pushed_digest(pushed.stderr)


def test_push_without_a_registry_name_fails_before_building(cog_bin, project):
    missing = cog(cog_bin, "build", "--push", cwd=project, check=False)
    assert missing.returncode == 1
    assert "To push images, you must either set the 'image' option in cog.yaml or pass an image name with -t" \
        in missing.stderr
    assert "Building image" not in missing.stderr

    bare = cog(cog_bin, "build", "-t", "hello", "--push", cwd=project, check=False)
    assert bare.returncode == 1
    assert "--push: the image name 'hello' names no registry" in bare.stderr
    assert "-t r8.im/<owner>/hello" in bare.stderr
    assert "Building image" not in bare.stderr


def test_push_to_a_registry_that_is_not_there_fails_clearly(cog_bin, project, cleanup):
    from registry_helpers import free_port
    target = f"127.0.0.1:{free_port()}/nobody/home"
    cleanup.append(target)
    result = cog(cog_bin, "build", "-t", target, "--push", "--progress", "plain", cwd=project, check=False)
    assert result.returncode == 1
    assert "Image built as" in result.stderr  # the build itself worked and is kept
    assert "cog: error:" in result.stderr and "127.0.0.1" in result.stderr


# ------------------------------------------------------------------------------------- --load

def stored_config_digest(tag: str) -> str:
    raw = subprocess.run(["skopeo", "inspect", "--raw", store_ref(tag)], capture_output=True, check=True).stdout
    return json.loads(raw)["config"]["digest"]


def test_load_hands_the_image_to_docker(cog_bin, project, cleanup, docker_daemon):
    tag = unique_tag("cog-e2e")
    cleanup.append(tag)
    result = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "--load", "--progress", "plain", cwd=project,
                 env={"DOCKER_HOST": docker_daemon.host})
    assert f"Loading {tag} into docker..." in result.stderr
    assert f"Loaded {tag}:latest into docker" in result.stderr
    inspect = json.loads(docker_daemon.docker("image", "inspect", tag).stdout)[0]
    assert inspect["Id"] == stored_config_digest(tag)  # the very image we built, not a re-encoding
    labels = inspect["Config"]["Labels"]
    assert "run.cog.openapi_schema" in labels and "run.cog.version" in labels
    assert inspect["Config"]["WorkingDir"] == "/src"
    ran = docker_daemon.docker("run", "--rm", "--network", "none", tag, "python3", "-c",
                               "import cog, pathlib; print(pathlib.Path('/src/run.py').read_text().count('class Runner'))")
    assert ran.stdout.strip() == "1"
    docker_daemon.docker("rmi", tag)


def test_load_with_no_daemon_reports_dockers_own_message(cog_bin, project, cleanup, tmp_path):
    tag = unique_tag("cog-e2e")
    cleanup.append(tag)
    result = cog(cog_bin, "build", "-t", tag, "--load", "--progress", "plain", cwd=project, check=False,
                 env={"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"})
    assert result.returncode == 1
    assert "Image built as" in result.stderr and "cog: error:" in result.stderr
    assert "no-such.sock" in result.stderr  # docker's own explanation is passed on
    assert "DOCKER_HOST" in result.stderr


def test_load_without_docker_or_podman_names_the_alternative(cog_bin, project, tmp_path):
    # A private mount namespace where every docker and podman client is /dev/null (not executable).
    hide = " && ".join(f"mount --bind /dev/null {path}" for path in
                       ("/usr/bin/docker", "/usr/local/bin/docker", "/usr/bin/podman") if os.path.exists(path))
    script = (hide + " && " if hide else "") + f'exec "{cog_bin}" build --load'
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], cwd=project,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PATH="/usr/bin:/bin:/usr/sbin:/sbin"))
    assert result.returncode == 1, result.stderr
    assert "--load: neither docker nor podman is installed" in result.stderr
    assert "-o docker-archive:FILE" in result.stderr
    assert "Building image" not in result.stderr


# ---------------------------------------------------------------------------------- --progress

def run_on_terminal(cog_bin, args, cwd, columns=60, timeout=300, term="xterm"):
    """Runs cog with stdout and stderr on a pseudo-terminal `columns` wide; returns (exit code, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([str(cog_bin), *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                               env=cog_environ(TERM=term))
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode, output.decode("utf-8", "replace")


def screen_lines(output: str):
    """The lines that stay on the screen: each frame's live area is erased by the next frame."""
    lines = []
    for part in re.split(r"(\x1b\[\d+A\r\x1b\[J)", output.replace("\r\n", "\n")):
        match = re.fullmatch(r"\x1b\[(\d+)A\r\x1b\[J", part)
        if match:
            del lines[len(lines) - int(match.group(1)):]
        else:
            lines += part.split("\n")[:-1] if part.endswith("\n") else part.split("\n")
    return lines


def test_tty_progress_collapses_steps_and_fits_the_terminal(cog_bin, project, cleanup):
    tag = unique_tag("cog-e2e")
    cleanup.append(tag)
    # The tag in the command makes the step new to the layer cache (--no-cache would redo the base too).
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  run:\n'
                                      f'    - "for i in 1 2 3; do echo progress-line-$i; sleep 0.3; done # {tag}"\n'
                                      'run: "run.py:Runner"\n')
    code, output = run_on_terminal(cog_bin, ["build", "-t", tag, "--progress", "tty"], project)
    assert code == 0, output
    assert "\x1b[" in output and "[+] Building" in output  # frames were drawn and redrawn
    assert "progress-line-1" in output  # the running step's output was shown live...
    screen = screen_lines(output)
    # ...and what remains is one line per finished step, with its timing.
    done = [line for line in screen if line.startswith("=> DONE RUN for i in 1 2 3")]
    assert len(done) == 1 and re.search(r"\(\d+\.\ds\)$", done[0]), screen
    assert not any("progress-line-1" in line for line in screen), screen
    assert not any(line.startswith("[+] Building") for line in screen), screen
    assert any(line.startswith("Image built as " + tag) for line in screen), screen
    for line in screen:  # the view's lines fit (the CLI's own last line may wrap)
        if line.startswith(("=> ", "   | ", "[+] ", "Building image")):
            assert len(ESCAPE.sub("", line)) < 60, line


def test_tty_progress_keeps_a_failed_steps_output(cog_bin, project):
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  run:\n'
                                      '    - "echo first-words; echo last-words; exit 3"\n'
                                      'run: "run.py:Runner"\n')
    code, output = run_on_terminal(cog_bin, ["build", "-t", unique_tag("cog-e2e"), "--progress", "tty"],
                                   project, columns=100)
    assert code == 1, output
    screen = screen_lines(output)
    failed = [i for i, line in enumerate(screen) if line.startswith("=> FAILED RUN echo first-words")]
    assert failed, screen
    assert screen[failed[0] + 1:failed[0] + 3] == ["   | first-words", "   | last-words"], screen
    assert any("exited with status 3" in line for line in screen), screen


def test_plain_and_quiet_progress_print_no_escape_codes(cog_bin, project, cleanup):
    tag = unique_tag("cog-e2e")
    cleanup.append(tag)
    plain = cog(cog_bin, "build", "-t", tag, "--progress", "plain", cwd=project)
    assert "\x1b" not in plain.stderr
    assert "  CACHED " in plain.stderr or "  DONE " in plain.stderr
    # auto with stderr on a pipe is plain too
    auto = cog(cog_bin, "build", "-t", tag, cwd=project)
    assert "\x1b" not in auto.stderr and "Building image" in auto.stderr
    quiet = cog(cog_bin, "build", "-t", tag, "--progress", "quiet", cwd=project)
    assert "Building image" not in quiet.stderr and "Image built as" in quiet.stderr


def test_auto_progress_is_live_on_a_terminal_unless_term_is_dumb(cog_bin, project, cleanup):
    tag = unique_tag("cog-e2e")
    cleanup.append(tag)
    code, live = run_on_terminal(cog_bin, ["build", "-t", tag], project)
    assert code == 0, live
    assert "[+] Building" in live and "\x1b[" in live
    code, dumb = run_on_terminal(cog_bin, ["build", "-t", tag], project, term="dumb")
    assert code == 0, dumb
    assert "\x1b" not in dumb and "[+] Building" not in dumb and "  CACHED " in dumb


# --------------------------------------------------------------------------- -o, --openapi-schema

def test_output_with_an_unknown_transport_fails_before_building(cog_bin, project, tmp_path):
    tag = unique_tag("cog-e2e")
    target = tmp_path / "x"
    result = cog(cog_bin, "build", "-t", tag, "-o", f"dir:{target}", cwd=project, check=False)
    assert result.returncode == 1, result.stderr
    assert f"--output dir:{target}: unknown transport 'dir:'" in result.stderr
    assert "oci:DIR[:TAG] or docker-archive:FILE[:REF]" in result.stderr
    assert "Building image" not in result.stderr and "Wrote" not in result.stderr
    assert not target.exists()
    listed = run_cog(cog_bin, "images", "-q").stdout.split()
    assert not any(name.startswith("dir:") or name.startswith(tag) for name in listed), listed


def archive_repo_tags(archive) -> list:
    with tarfile.open(archive) as tar:
        return [entry["RepoTags"] for entry in json.load(tar.extractfile("manifest.json"))]


def test_outputs_name_the_image_and_a_generated_schema_is_accepted_back(cog_bin, project, cleanup, tmp_path):
    tag = unique_tag("cog-e2e")
    cleanup.append(tag)
    named, explicit, layout = tmp_path / "named.tar", tmp_path / "explicit.tar", tmp_path / "layout"
    try:
        result = cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "-o", f"docker-archive:{named}",
                     "-o", f"docker-archive:{explicit}:other/name:v2", "-o", f"oci:{layout}", cwd=project)
        # Without :REF the archive carries the build's name, so that `docker load` tags the image.
        assert archive_repo_tags(named) == [[f"{tag}:latest"]]
        assert archive_repo_tags(explicit) == [["other/name:v2"]]
        assert f"Wrote docker-archive:{named}:{tag}:latest" in result.stderr
        index = json.loads((layout / "index.json").read_text())
        assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]] == ["latest"]
    finally:  # each a whole image
        named.unlink(missing_ok=True)
        explicit.unlink(missing_ok=True)
        shutil.rmtree(layout, ignore_errors=True)

    # The schema our generator wrote passes --openapi-schema's check, and goes into the image as it is.
    config = json.loads(subprocess.run(["skopeo", "inspect", "--config", store_ref(tag)], capture_output=True,
                                       text=True, check=True).stdout)
    generated = config["config"]["Labels"]["run.cog.openapi_schema"]
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(generated)
    cog(cog_bin, "build", NO_COG_BASE, "-t", tag, "--openapi-schema", str(schema_file), cwd=project)
    again = json.loads(subprocess.run(["skopeo", "inspect", "--config", store_ref(tag)], capture_output=True,
                                      text=True, check=True).stdout)
    assert json.loads(again["config"]["Labels"]["run.cog.openapi_schema"]) == json.loads(generated)


def test_an_openapi_schema_that_is_not_openapi_3_fails_before_any_layer(cog_bin, project, tmp_path):
    tag = unique_tag("cog-e2e")
    schema_file = tmp_path / "schema.json"
    schema_file.write_text('{"openapi":"3.0.2","info":{}}')
    result = cog(cog_bin, "build", "-t", tag, "--openapi-schema", str(schema_file), "--progress", "plain",
                 cwd=project, check=False)
    assert result.returncode == 1, result.stderr
    assert f"{schema_file}: Model schema is invalid: missing `info.title`" in result.stderr
    assert f"regenerate it with `cog build` without --openapi-schema, or fix {schema_file}" in result.stderr
    assert "CACHED" not in result.stderr and "DONE" not in result.stderr and "Image built as" not in result.stderr
