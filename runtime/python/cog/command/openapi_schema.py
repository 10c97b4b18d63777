"""Print a runner's OpenAPI document: ``python3 -m cog.command.openapi_schema``.

    python3 -m cog.command.openapi_schema [--static] --project-dir DIR --ref run.py:Runner
        [--train-ref train.py:train] [--version V] [--metadata FILE]

(``--predict``/``--train`` are aliases of ``--ref``/``--train-ref``; both default to
``$COG_PREDICT_TYPE_STUB``/``$COG_TRAIN_TYPE_STUB``, as the server reads them.)

stdout: the document (compact JSON, Cog's key order). ``--metadata FILE`` receives
``{"is_async":…,"max_concurrency":…,"streaming":…}`` of the predict target (of the train target
when there is no predict ref); without it that line goes to stderr. On a problem: one line
``file:line: message`` on stderr (``--static``; ``cog: error: openapi_schema: message`` otherwise)
and exit status 1.

``--static`` is what ``cog build`` uses on the host: the model file is parsed, never imported,
so its dependencies need not be installed and its module-level code does not run. Without it
the file is imported for real (inside an image).
"""
import json
import os
import sys
import types
import typing

from .. import _loader, _schema
from .._version import __version__
from ._static import Analysis, StaticError
from ._target import Target, runtime_target, static_target


def _parser() -> "argparse.ArgumentParser":
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m cog.command.openapi_schema", description=__doc__.splitlines()[0])
    parser.add_argument("--static", action="store_true", help="parse the model files instead of importing them")
    parser.add_argument("--project-dir", default=".", help="the folder with cog.yaml (default: .)")
    parser.add_argument("--ref", "--predict", dest="ref", default=os.environ.get("COG_PREDICT_TYPE_STUB"),
                        help="run/predict reference, e.g. run.py:Runner (default: $COG_PREDICT_TYPE_STUB)")
    parser.add_argument("--train-ref", "--train", dest="train_ref", default=os.environ.get("COG_TRAIN_TYPE_STUB"),
                        help="train reference, e.g. train.py:train (default: $COG_TRAIN_TYPE_STUB)")
    parser.add_argument("--version", default=__version__, help="info.version of the document")
    parser.add_argument("--metadata", help="write is_async/max_concurrency/streaming JSON to this file")
    return parser


# What `cog build` passes, parsed without argparse: importing it and building the parser costs
# the generator ~3 ms (argparse, gettext, locale, and shutil for the help's terminal width).
_VALUE_OPTIONS = {"--project-dir": "project_dir", "--ref": "ref", "--predict": "ref", "--train-ref": "train_ref",
                  "--train": "train_ref", "--version": "version", "--metadata": "metadata"}


def _parse_args(argv: typing.List[str]) -> typing.Any:
    """``_parser().parse_args(argv)``; anything but plain ``--option value`` pairs and ``--static``
    (``--help``, ``--option=value``, abbreviations, mistakes) goes to argparse, which says the same."""
    values = {"static": False, "project_dir": ".", "ref": os.environ.get("COG_PREDICT_TYPE_STUB"),
              "train_ref": os.environ.get("COG_TRAIN_TYPE_STUB"), "version": __version__, "metadata": None}
    index = 0
    while index < len(argv):
        option = argv[index]
        if option == "--static":
            values["static"] = True
            index += 1
        elif option in _VALUE_OPTIONS and index + 1 < len(argv) and not argv[index + 1].startswith("-"):
            values[_VALUE_OPTIONS[option]] = argv[index + 1]
            index += 2
        else:
            return _parser().parse_args(argv)
    return types.SimpleNamespace(**values)


def generate(
    project_dir: str,
    predict_ref: typing.Optional[str],
    train_ref: typing.Optional[str],
    version: str,
    static: bool,
) -> typing.Tuple[str, dict]:
    """(document JSON, metadata of the first target); raises StaticError with Cog's message."""
    refs = [(mode, ref) for mode, ref in (("predict", predict_ref), ("train", train_ref)) if ref]
    targets: typing.Dict[str, Target] = {}
    if static:
        with Analysis(project_dir) as analysis:
            for mode, ref in refs:
                try:
                    targets[mode] = static_target(analysis, ref, mode)
                except StaticError:
                    raise
                except Exception as error:  # a case the analysis does not foresee: say so, briefly
                    raise StaticError(
                        f"static schema generation failed: {type(error).__name__}: {error}", ref.partition(":")[0]
                    ) from error
    else:
        for mode, ref in refs:
            try:
                targets[mode] = runtime_target(ref, mode, project_dir)
            except (_loader.LoadError, _schema.SchemaError) as error:
                raise StaticError(str(error), ref.partition(":")[0]) from None
    document = _schema.openapi_document(version, **{mode: t.signature for mode, t in targets.items()})
    return _schema.dumps(document), next(iter(targets.values())).metadata()


def main(argv: typing.Optional[typing.List[str]] = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if not args.ref and not args.train_ref:
        print("cog: error: openapi_schema: no runner reference — pass --ref (--predict) and/or --train-ref "
              "(or set COG_PREDICT_TYPE_STUB)", file=sys.stderr)
        return 1
    project_dir = os.path.abspath(args.project_dir)
    try:
        document, metadata = generate(project_dir, args.ref, args.train_ref, args.version, args.static)
    except StaticError as error:
        # Static errors carry file:line for the build to show as is; runtime ones are the SDK's.
        print(str(error) if args.static else f"cog: error: openapi_schema: {error.message}", file=sys.stderr)
        return 1
    metadata_text = json.dumps(metadata, separators=(",", ":"))
    if args.metadata:
        with open(args.metadata, "w", encoding="utf-8") as handle:
            handle.write(metadata_text + "\n")
    else:
        print(metadata_text, file=sys.stderr)
    sys.stdout.write(document + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
