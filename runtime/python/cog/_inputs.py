"""Validation and preparation of prediction inputs against a runner :class:`Signature`.

Error entries have Cog's 422 shape: ``{"loc": ["body", "input", field], "msg": ..., "type": ...}``;
messages follow the JSON-schema validator Cog uses (``"x" is not of type "integer"``).
"""
import concurrent.futures
import copy
import os
import re
import shutil
import tempfile
import typing

from . import _files
from ._schema import InputField, Signature, TypeSpec, dumps
from .types import File, Path, Secret

_JSON_TYPE = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
    "path": "string",
    "file": "string",
    "secret": "string",
}


class InputError(Exception):
    """Inputs failed validation; ``errors`` is the ``detail`` list of the 422 response."""

    def __init__(self, errors: typing.List[dict]):
        super().__init__(errors)  # args[0] is the list too, for callers that read exc.args
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in self.errors)


def _show(value: typing.Any) -> str:
    try:
        return dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class _Invalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _check_type(spec: TypeSpec, value: typing.Any) -> typing.Any:
    """The value coerced to the spec's Python type, or :class:`_Invalid`."""
    kind = spec.kind
    if kind == "union":
        for member in spec.members:
            try:
                return _check_type(member, value)
            except _Invalid:
                continue
        raise _Invalid(f"{_show(value)} is not valid under any of the schemas listed in the 'anyOf' keyword")
    if kind == "enum":
        if not any(value == v and type(value) is type(v) for v in spec.values) and value not in spec.values:
            raise _Invalid(f"{_show(value)} is not one of {_show(list(spec.values))}")
        return value
    ok = {
        "string": isinstance(value, str),
        "path": isinstance(value, str),
        "file": isinstance(value, str),
        "secret": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer()),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }[kind]
    if not ok:
        raise _Invalid(f"{_show(value)} is not of type \"{_JSON_TYPE[kind]}\"")
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "array":
        return [_check_type(spec.item, item) for item in value]
    return value


def _check_constraints(field: InputField, value: typing.Any) -> None:
    info = field.info
    values = value if isinstance(value, list) else [value]
    for item in values:
        if field.choices is not None and field.spec.kind != "enum" and item not in field.choices:
            raise _Invalid(f"{_show(item)} is not one of {_show(list(field.choices))}")
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if info.ge is not None and item < info.ge:
                raise _Invalid(f"{_show(item)} is less than the minimum of {_show(info.ge)}")
            if info.le is not None and item > info.le:
                raise _Invalid(f"{_show(item)} is greater than the maximum of {_show(info.le)}")
        if isinstance(item, str) and field.spec.kind in ("string", "enum"):
            if info.min_length is not None and len(item) < info.min_length:
                raise _Invalid(f"{_show(item)} is shorter than {info.min_length} character{'s' * (info.min_length != 1)}")
            if info.max_length is not None and len(item) > info.max_length:
                raise _Invalid(f"{_show(item)} is longer than {info.max_length} character{'s' * (info.max_length != 1)}")
            if info.regex is not None and not re.search(info.regex, item):
                raise _Invalid(f"{_show(item)} does not match {_show(info.regex)}")


def validate(signature: Signature, raw_input: typing.Mapping[str, typing.Any]) -> typing.Dict[str, typing.Any]:
    """Check ``raw_input`` (unknown keys dropped) and fill absent fields; raises :class:`InputError`."""
    errors: typing.List[dict] = []
    values: typing.Dict[str, typing.Any] = {}
    for field in signature.fields:
        loc = ["body", "input", field.name]
        if field.name not in raw_input:
            if field.required:
                errors.append({"loc": loc, "msg": "Field required", "type": "value_error.missing"})
            elif field.has_default:
                values[field.name] = copy.deepcopy(field.default)
            else:
                values[field.name] = None
            continue
        try:
            value = _check_type(field.spec, raw_input[field.name])
            _check_constraints(field, value)
        except _Invalid as invalid:
            errors.append({"loc": loc, "msg": invalid.message, "type": "value_error"})
            continue
        values[field.name] = value
    if errors:
        raise InputError(errors)
    return values


class PreparedFiles:
    """Temp files and open handles made for one prediction's inputs; ``cleanup`` removes them."""

    def __init__(self) -> None:
        self.directory: typing.Optional[str] = None
        self.handles: typing.List[typing.IO] = []

    def new_directory(self) -> str:
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="cog-input-")
        return tempfile.mkdtemp(dir=self.directory)

    def cleanup(self) -> None:
        for handle in self.handles:
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - user code may have closed or replaced it
                pass
        self.handles.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


def prepare(signature: Signature, values: typing.Dict[str, typing.Any], files: PreparedFiles) -> typing.Dict[str, typing.Any]:
    """Fetch file inputs (in parallel), wrap secrets; returns the kwargs for ``run()``."""
    fetches: typing.Dict[str, concurrent.futures.Future] = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    try:

        def local(url: str) -> concurrent.futures.Future:
            if url not in fetches:
                fetches[url] = pool.submit(_files.fetch, url, files.new_directory())
            return fetches[url]

        pending = {}
        for field in signature.fields:
            value = values.get(field.name)
            if value is None or not field.spec.is_file:
                continue
            items = value if isinstance(value, list) else [value]
            pending[field.name] = [local(item) if isinstance(item, str) and _files.is_remote(item) else item for item in items]
        kwargs = dict(values)
        for field in signature.fields:
            value = kwargs.get(field.name)
            if value is None:
                continue
            if field.name in pending:
                kind = field.spec.item.kind if field.spec.kind == "array" else field.spec.kind
                converted = [_as_file(kind, item.result() if isinstance(item, concurrent.futures.Future) else item, files)
                             for item in pending[field.name]]
                kwargs[field.name] = converted if field.spec.kind == "array" else converted[0]
            elif field.spec.kind == "secret":
                kwargs[field.name] = value if isinstance(value, Secret) else Secret(value)
        return kwargs
    finally:
        pool.shutdown(wait=True)


def _as_file(kind: str, value: typing.Any, files: PreparedFiles) -> typing.Any:
    if kind == "path":
        return value if isinstance(value, Path) else Path(os.fspath(value))
    if isinstance(value, str):
        handle = File.validate(value)
        files.handles.append(handle)
        return handle
    return value


__all__ = ["InputError", "PreparedFiles", "prepare", "validate"]
