"""``python -m cog.server.http``: the command Cog images run. It hands over to our C++ cog-server,
which takes the same flags (``--host``, ``--await-explicit-shutdown <bool>``, ``--x-mode
predict|train``, ``--upload-url``, ``--threads``, ``-v/--version``) and environment
(``COG_PREDICT_TYPE_STUB``, ``PORT``, ...), so images and tools that run this module keep working.

cog-server is found through ``$COG_SERVER_BIN``, then ``cog-server`` on ``PATH``, then beside this
SDK as images lay it out (``/opt/cog/bin`` next to ``/opt/cog/python``), then the build tree of a
source checkout (``build/runtime/cog-server``). The worker it starts imports this very
SDK: its folder is passed on as ``COG_SDK_DIR`` unless that is already set.
"""
import os
import pathlib
import shutil
import sys

_SDK_DIR = pathlib.Path(__file__).resolve().parents[2]  # the folder that holds the cog package


def server_binary():
    explicit = os.environ.get("COG_SERVER_BIN")
    if explicit:
        return explicit
    found = shutil.which("cog-server")
    if found:
        return found
    beside = _SDK_DIR.parent / "bin" / "cog-server"
    if beside.exists():
        return str(beside)
    checkout = _SDK_DIR.parents[1]  # runtime/python -> the repository root
    candidate = checkout / "build" / "runtime" / "cog-server"
    return str(candidate) if candidate.exists() else None


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    binary = server_binary()
    if binary is None:
        print("cog.server.http: error: cog-server not found — install it on PATH or set COG_SERVER_BIN",
              file=sys.stderr)
        return 1
    env = dict(os.environ)
    env.setdefault("COG_SDK_DIR", str(_SDK_DIR))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(binary, [binary, *args], env)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
