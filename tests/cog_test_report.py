"""A pytest plugin (loaded by tests/e2e/conftest.py and tests/unit/python/conftest.py) that makes
skips visible to the whole suite: each skipped test, with its reason, is appended to the file
COG_SKIP_LOG names (scripts/test.sh prints them all at the end), and a file in which nothing ran
but something was skipped exits with 77, which CTest reports as "Skipped" (SKIP_RETURN_CODE in
tests/CMakeLists.txt) rather than "Passed". A file that collects no test at all keeps pytest's exit
code 5, a failure."""
import os

SKIP_EXIT_CODE = 77

_skipped = []
_ran = 0


def _reason(report):
    if isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
    else:
        reason = str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_runtest_logreport(report):
    global _ran
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(f"{report.nodeid}: {_reason(report)}")
    elif report.when == "call":
        _ran += 1


def pytest_collectreport(report):
    if report.skipped:  # pytest.skip(allow_module_level=True) while importing the file
        _skipped.append(f"{report.nodeid}: {_reason(report)}")


def pytest_sessionfinish(session, exitstatus):
    area = os.path.basename(str(session.config.rootpath))
    log = os.environ.get("COG_SKIP_LOG")
    if log and _skipped:
        with open(log, "a", encoding="utf-8") as out:
            out.writelines(f"{area}: {line}\n" for line in _skipped)
    if exitstatus == 0 and _skipped and _ran == 0:
        session.exitstatus = SKIP_EXIT_CODE
