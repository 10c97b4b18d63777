"""Shared fixtures for end-to-end tests: where the built binaries and the sources are, and each
test's tmp_path removed once it has passed (images, archives and bundles there are gigabytes)."""
import os
import pathlib
import shutil
import sys

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COG_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("COG_BUILD_DIR", SOURCE_DIR / "build"))

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
pytest_plugins = ["cog_test_report"]  # skips listed at the suite's end (tests/cog_test_report.py)

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Records on the item whether its setup or call failed, for remove_tmp_path below."""
    outcome = yield
    if outcome.get_result().failed:
        item.stash[_FAILED] = True


def _has_mounts_under(path: pathlib.Path) -> bool:
    """Whether anything is mounted at or below `path` (rmtree would empty what is mounted there)."""
    prefix = str(path).rstrip("/") + "/"
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            points = [fields[4].replace("\\040", " ") for fields in map(str.split, mounts) if len(fields) > 4]
    except OSError:
        return True  # unknown: keep the directory
    return any(point + "/" == prefix or point.startswith(prefix) for point in points)


@pytest.fixture(autouse=True)
def remove_tmp_path(request):
    """Removes the test's tmp_path once the test has passed (pytest 7.2 keeps every one, for three
    runs); a failed test's is kept to be looked at. Only tests that asked for tmp_path (directly or
    through a fixture) have one; tmp_path_factory's directories (wider fixtures) are left alone.
    This fixture is set up first, so torn down last: the fixtures using the directory (registries,
    servers) have stopped by then."""
    yield
    if request.node.stash.get(_FAILED, False) or "tmp_path" not in request.fixturenames:
        return
    path = request.node.funcargs.get("tmp_path")
    if path is None or not path.exists() or _has_mounts_under(path):
        return
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def source_dir() -> pathlib.Path:
    return SOURCE_DIR


@pytest.fixture(scope="session")
def cog_bin() -> pathlib.Path:
    path = BUILD_DIR / "cli" / "cog"
    assert path.exists(), f"{path} is missing: build the project first"
    return path


@pytest.fixture(scope="session")
def server_bin() -> pathlib.Path:
    path = BUILD_DIR / "runtime" / "cog-server"
    assert path.exists(), f"{path} is missing: build the project first"
    return path


@pytest.fixture
def serve(server_bin):
    """Starts a cog-server on a fixture (waiting until it reports `wait`, READY by default); every
    one started is shut down after the test."""
    from cog_server_harness import Server

    started = []

    def start(fixture, env=None, args=(), wait=("READY",), **kwargs):
        server = Server(server_bin, fixture, env=env, args=args, **kwargs)
        started.append(server)
        if wait:
            server.wait_for(*wait)
        return server

    yield start
    for server in started:
        server.shutdown()
