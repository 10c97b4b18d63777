"""Shared fixtures for end-to-end tests: where the built binaries and the sources are."""
import os
import pathlib
import sys

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COG_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("COG_BUILD_DIR", SOURCE_DIR / "build"))

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
pytest_plugins = ["cog_test_report"]  # skips listed at the suite's end (tests/cog_test_report.py)


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
