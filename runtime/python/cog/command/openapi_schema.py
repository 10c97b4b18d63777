"""Print a project's OpenAPI document: ``python -m cog.command.openapi_schema``.

Refs come from ``--predict``/``--train`` or, like the server, from ``COG_PREDICT_TYPE_STUB`` /
``COG_TRAIN_TYPE_STUB``. Runner classes are inspected without being instantiated, so no model
code beyond module import runs. Exit status 1 with ``cog: error: ...`` on stderr when the
signature cannot be described.
"""
import argparse
import os
import sys

from .._loader import LoadError
from .._schema import SchemaError
from .._version import __version__
from .._worker import openapi_for_project


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cog.command.openapi_schema")
    parser.add_argument("--predict", default=os.environ.get("COG_PREDICT_TYPE_STUB"), help="file.py:Name")
    parser.add_argument("--train", default=os.environ.get("COG_TRAIN_TYPE_STUB"), help="file.py:Name")
    parser.add_argument("--project-dir", default=".", help="directory holding the runner files")
    parser.add_argument("--version", default=__version__, help="info.version of the document")
    args = parser.parse_args(argv)
    if not args.predict and not args.train:
        print("cog: error: openapi_schema: no runner reference — pass --predict or --train "
              "(or set COG_PREDICT_TYPE_STUB)", file=sys.stderr)
        return 1
    try:
        document = openapi_for_project(args.version, args.project_dir, args.predict, args.train)
    except (LoadError, SchemaError) as error:
        print(f"cog: error: openapi_schema: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(document)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
