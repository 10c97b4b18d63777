"""Validation and preparation of prediction inputs against a runner :class:`Signature`.

Error entries have Cog's 422 shape: ``{"loc": ["body", "input", field], "msg": ..., "type": ...}``;
messages follow the JSON-schema validator Cog uses (``"x" is not of type "integer"``).
"""
import concurrent.futures
import copy
import os
import shutil
import tempfile
import typing

from . import _files
from ._constraints import broken_constraint
from ._introspect import TypeSpec
from ._jsonwriter import dumps
from ._openapi import InputField, Signature
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
    # The string limits apply to text inputs, not to the URLs of files or to secrets.
    text_limits = field.spec.kind in ("string", "enum")
    for item in value if isinstance(value, list) else [value]:
        broken = broken_constraint(field, item, text_limits)
        if broken is None:
            continue
        if broken == "choices":
            raise _Invalid(f"{_show(item)} is not one of {_show(list(field.choices))}")
        if broken == "ge":
            raise _Invalid(f"{_show(item)} is less than the minimum of {_show(info.ge)}")
        if broken == "le":
            raise _Invalid(f"{_show(item)} is greater than the maximum of {_show(info.le)}")
        if broken == "min_length":
            raise _Invalid(f"{_show(item)} is shorter than {info.min_length} character{'s' * (info.min_length != 1)}")
        if broken == "max_length":
            raise _Invalid(f"{_show(item)} is longer than {info.max_length} character{'s' * (info.max_length != 1)}")
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
    """Temp files and open handles made for one prediction's inputs; ``cleanup`` removes them.

    ``control`` cancels the prediction's downloads still running (cleanup does it first, so a
    download thread can never write on into a removed directory)."""

    def __init__(self) -> None:
        self.directory: typing.Optional[str] = None
        self.handles: typing.List[typing.IO] = []
        self.control = _files.FetchControl()

    def new_directory(self) -> str:
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="cog-input-")
        return tempfile.mkdtemp(dir=self.directory)

    def cleanup(self) -> None:
        self.control.cancel()
        for handle in self.handles:
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - user code may have closed or replaced it
                pass
        self.handles.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


_ALLOWED = "file inputs must be http://, https:// or data: URLs"


class _Fetches:
    """The file inputs of one prediction, fetched in parallel on a pool of its own.

    Local paths a client sends are refused (an :class:`InputError` naming the field) unless
    ``COG_LOCAL_FILE_INPUTS`` allows their directory; defaults come from the model's author and
    are used as they are. The pool never waits for a download: ``close`` leaves running ones to
    notice the cancel themselves."""

    def __init__(self, signature: Signature, values: typing.Dict[str, typing.Any], files: PreparedFiles,
                 supplied: typing.Optional[typing.Collection[str]]):
        self.signature = signature
        self.values = values
        self.files = files
        self.futures: typing.Dict[str, concurrent.futures.Future] = {}
        self.pending: typing.Dict[str, list] = {}
        self.owner: typing.Dict[concurrent.futures.Future, str] = {}
        self.pool: typing.Optional[concurrent.futures.ThreadPoolExecutor] = None
        plans, errors = {}, []
        for field in signature.fields:
            value = values.get(field.name)
            if value is None or not field.spec.is_file:
                continue
            items = value if isinstance(value, list) else [value]
            from_client = supplied is None or field.name in supplied
            try:
                plans[field.name] = [self._plan(field.name, item, from_client) for item in items]
            except _Invalid as invalid:
                errors.append({"loc": ["body", "input", field.name], "msg": invalid.message, "type": "value_error"})
        if errors:
            raise InputError(errors)
        limits = _files.Limits.from_env()
        for name, items in plans.items():
            self.pending[name] = [self._submit(name, item[1], limits) if item[0] == "fetch" else item[1]
                                  for item in items]

    @staticmethod
    def _plan(name: str, item: typing.Any, from_client: bool) -> typing.Tuple[str, typing.Any]:
        if not isinstance(item, str) or not from_client:
            return ("fetch", item) if isinstance(item, str) and _files.is_remote(item) else ("keep", item)
        if _files.is_remote(item):
            return "fetch", item
        local = _files.local_input(item)
        if local is not None:
            return "keep", local
        shown = _show(item if len(item) <= 200 else item[:200] + "…")
        if os.environ.get("COG_LOCAL_FILE_INPUTS"):
            raise _Invalid(f"{shown} is refused for input {name!r}: {_ALLOWED}, or files inside COG_LOCAL_FILE_INPUTS")
        raise _Invalid(f"{shown} is refused for input {name!r}: {_ALLOWED} (local paths are not accepted)")

    def _submit(self, field_name: str, url: str, limits: "_files.Limits") -> concurrent.futures.Future:
        if url not in self.futures:
            if self.pool is None:
                self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="cog-input")
            future = self.pool.submit(_files.fetch, url, self.files.new_directory(), self.files.control, limits)
            self.futures[url] = future
            self.owner[future] = field_name
        return self.futures[url]

    def failure(self, future: concurrent.futures.Future) -> BaseException:
        error = future.exception()
        if isinstance(error, _files.FileInputError) and not isinstance(error, _files.FetchCanceled):
            return _files.FileInputError(f"{self.owner[future]}: {error}")
        return error  # type: ignore[return-value]

    def wait(self) -> None:
        """Blocks until every fetch is done, polling so that a cancel signal is never held up."""
        pending = set(self.futures.values())
        while pending:
            done, pending = concurrent.futures.wait(pending, timeout=0.2,
                                                    return_when=concurrent.futures.FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise self.failure(future)

    def kwargs(self) -> typing.Dict[str, typing.Any]:
        """The arguments for ``run()``, once every fetch is done."""
        kwargs = dict(self.values)
        for field in self.signature.fields:
            value = kwargs.get(field.name)
            if value is None:
                continue
            if field.name in self.pending:
                kind = field.spec.item.kind if field.spec.kind == "array" else field.spec.kind
                converted = [_as_file(kind, item.result() if isinstance(item, concurrent.futures.Future) else item,
                                      self.files)
                             for item in self.pending[field.name]]
                kwargs[field.name] = converted if field.spec.kind == "array" else converted[0]
            elif field.spec.kind == "secret":
                kwargs[field.name] = value if isinstance(value, Secret) else Secret(value)
        return kwargs

    def close(self, failed: bool) -> None:
        if failed:
            self.files.control.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def prepare(signature: Signature, values: typing.Dict[str, typing.Any], files: PreparedFiles,
            supplied: typing.Optional[typing.Collection[str]] = None) -> typing.Dict[str, typing.Any]:
    """Fetch file inputs (in parallel), wrap secrets; returns the kwargs for ``run()``.

    ``supplied`` names the fields the client sent (None: all of them). Blocks; a
    ``CancelationException`` raised meanwhile (SIGUSR1) cancels the downloads at once."""
    fetches = _Fetches(signature, values, files, supplied)
    failed = True
    try:
        fetches.wait()
        kwargs = fetches.kwargs()
        failed = False
        return kwargs
    finally:
        fetches.close(failed)


async def prepare_async(signature: Signature, values: typing.Dict[str, typing.Any], files: PreparedFiles,
                        supplied: typing.Optional[typing.Collection[str]] = None) -> typing.Dict[str, typing.Any]:
    """:func:`prepare` without blocking the event loop: the downloads run on threads, and
    cancelling the awaiting task cancels them."""
    import asyncio

    fetches = _Fetches(signature, values, files, supplied)
    waiting = {asyncio.wrap_future(future): future for future in fetches.futures.values()}
    failed = True
    try:
        pending = set(waiting)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise fetches.failure(waiting[future])
        kwargs = fetches.kwargs()
        failed = False
        return kwargs
    finally:
        for future in waiting:
            if future.done():
                if not future.cancelled():
                    future.exception()  # retrieved: no "exception was never retrieved" warnings
            else:
                future.cancel()
        fetches.close(failed)


def _as_file(kind: str, value: typing.Any, files: PreparedFiles) -> typing.Any:
    if kind == "path":
        return value if isinstance(value, Path) else Path(os.fspath(value))
    if isinstance(value, str):
        handle = File.validate(value)
        files.handles.append(handle)
        return handle
    return value


__all__ = ["InputError", "PreparedFiles", "prepare", "prepare_async", "validate"]
