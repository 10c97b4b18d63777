"""From a loaded module (a stub or the real one) to the runner's signature and runtime options.

Both paths go through the SDK's own pieces (``_loader`` for choosing the class method,
``_schema.inspect_callable`` for the signature), so the static document is the runtime one.
The static path first checks the signature for what a stub could not evaluate (markers) and
reports it with Cog's messages and the line in the user's file.
"""
import dataclasses
import enum
import inspect
import os
import re
import types
import typing

from .. import _loader, _schema
from ..input import FieldInfo
from ..types import Secret
from ._standins import External, Marker, Unresolved, standin_of
from ._static import Analysis, StaticError


@dataclasses.dataclass
class Target:
    signature: _schema.Signature
    is_async: bool
    max_concurrency: int
    streaming: bool

    def metadata(self) -> dict:
        return {"is_async": self.is_async, "max_concurrency": self.max_concurrency, "streaming": self.streaming}


def _callable(module: types.ModuleType, name: typing.Optional[str], mode: str, path: str):
    """(function, where, skip_first) exactly as ``_loader.load_target(instantiate=False)`` picks them."""
    if name is None:
        name = next((n for n in ("Runner", "Predictor") if isinstance(getattr(module, n, None), type)), None)
        if name is None:
            raise _loader.LoadError(f"predictor not found: neither Runner nor Predictor is defined in {path}")
    obj = vars(module).get(name)
    if obj is None or standin_of(obj) is not None:
        raise _loader.LoadError(f"predictor not found: {name}")
    if inspect.isclass(obj):
        method = _loader._method_name(obj, name, mode)
        skip_first = not isinstance(inspect.getattr_static(obj, method), staticmethod)
        return getattr(obj, method), f"{name}.{method}", skip_first
    if callable(obj):
        return obj, name, False
    raise _loader.LoadError(f"predictor not found: {name} is neither a class nor a function")


def _target(function: typing.Callable, signature: _schema.Signature) -> Target:
    raw = getattr(function, "__func__", function)
    is_async = inspect.iscoroutinefunction(raw) or inspect.isasyncgenfunction(raw)
    return Target(signature, is_async, int(getattr(raw, "_cog_max_concurrency", 1)), signature.streaming)


def runtime_target(ref: str, mode: str, project_dir: str) -> Target:
    """Import the model for real (inside an image, where its dependencies are installed)."""
    loaded = _loader.load_target(ref, mode, project_dir, instantiate=False)
    return _target(loaded.function, loaded.signature)


def static_target(analysis: Analysis, ref: str, mode: str) -> Target:
    """Load the stub of ``ref``'s file and describe its runner without running model code."""
    try:
        path, name = _loader.parse_ref(ref, mode)
    except _loader.LoadError as error:
        raise StaticError(str(error)) from None
    full_path = os.path.abspath(os.path.join(analysis.project_dir, path))
    if not os.path.isfile(full_path):
        raise StaticError(f"predictor not found: {path} does not exist in {analysis.project_dir}")
    module_name = os.path.splitext(os.path.basename(full_path))[0]
    module = analysis.load(full_path, module_name)
    try:
        function, where, skip_first = _callable(module, name, mode, path)
    except _loader.LoadError as error:
        raise StaticError(str(error), path) from None
    raw = getattr(function, "__func__", function)
    code = getattr(raw, "__code__", None)
    info = analysis.functions.get((code.co_filename, raw.__qualname__)) if code else None
    file = analysis.relative(code.co_filename) if code else path
    function_line = info.line if info else 0

    def fail(message: str, param: typing.Optional[str] = None) -> StaticError:
        line = info.params[param].line if info and param in info.params else function_line
        return StaticError(message, file, line)

    _check_markers(function, skip_first, info, fail)
    try:
        signature = _schema.inspect_callable(function, where, skip_first=skip_first)
    except _schema.SchemaError as error:
        match = re.search(r"parameter '(\w+)'", str(error))
        raise fail(str(error), match.group(1) if match else None) from None
    return _target(function, signature)


# ---------------------------------------------------------------------------------------------
# Markers in a stub's signature


def _check_markers(function: typing.Callable, skip_first: bool, info, fail) -> None:
    raw = getattr(function, "__func__", function)
    try:
        hints = typing.get_type_hints(raw, include_extras=True)
    except Exception:  # inspect_callable reports unresolvable annotations with the SDK's message
        return
    parameters = list(inspect.signature(raw).parameters.values())
    for parameter in parameters[1:] if skip_first else parameters:
        name = parameter.name
        if name in hints:
            problem = _type_problem(hints[name], set())
            if problem:
                raise fail(problem, name)
        default_text = info.params[name].default_text if info and name in info.params else ""
        default = parameter.default
        if default is inspect.Parameter.empty:
            continue
        if isinstance(default, Unresolved) and default.reason == "default_factory":
            raise fail(
                f"default_factory is not supported in Input() — use a literal default value instead (parameter '{name}')",
                name,
            )
        if isinstance(default, FieldInfo):
            for attr in ("default", "choices", "description", "ge", "le", "min_length", "max_length", "regex", "deprecated", "accept"):
                value = getattr(default, attr)
                if attr == "default" and not default.has_default:
                    continue
                if not _is_static_value(value):
                    label = "default value" if attr == "default" else attr
                    raise fail(f"{label} for parameter '{name}' cannot be statically resolved: {_text(value, '')}", name)
        elif not _is_static_value(default):
            raise fail(f"default value for parameter '{name}' cannot be statically resolved: {_text(default, default_text)}", name)
    if "return" in hints:
        problem = _type_problem(hints["return"], set())
        if problem:
            raise fail(problem)


def _text(value: typing.Any, fallback: str) -> str:
    marker = _find_marker(value)
    if marker is not None:
        return marker.text
    return fallback or repr(value)


def _find_marker(value: typing.Any) -> typing.Optional[Marker]:
    if isinstance(value, Marker):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((m for m in map(_find_marker, value) if m is not None), None)
    if isinstance(value, dict):
        return next((m for m in map(_find_marker, [*value.keys(), *value.values()]) if m is not None), None)
    return None


def _is_static_value(value: typing.Any) -> bool:
    """Whether ``value`` is plain data a schema can hold (literals, lists, dicts, enums, paths)."""
    if value is None or isinstance(value, (bool, int, float, str, enum.Enum, os.PathLike, Secret)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_static_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_static_value(v) for k, v in value.items())
    return False


def _type_problem(tp: typing.Any, seen: typing.Set[int]) -> typing.Optional[str]:
    """Cog's message for the first marker inside annotation ``tp`` (walking into output models)."""
    marker = standin_of(tp)
    if isinstance(marker, External):
        text = marker.text
        short = text[len(marker.module) + 1:] if text.startswith(marker.module + ".") else text
        return (
            f"cannot resolve type '{short}' (imported from '{marker.module}') - external types cannot be "
            "statically analyzed. Use a builtin, typing or cog type, or a BaseModel defined in the project"
        )
    if isinstance(marker, Unresolved):
        return f"unsupported type: {marker.text}" + (f" ({marker.reason})" if marker.reason else "")
    if isinstance(tp, typing.ForwardRef):
        return None
    for arg in typing.get_args(tp):
        if isinstance(arg, (list, tuple)):  # Callable[[...], ...]
            problems = [_type_problem(a, seen) for a in arg]
            problem = next((p for p in problems if p), None)
        else:
            problem = _type_problem(arg, seen)
        if problem:
            return problem
    if isinstance(tp, type) and id(tp) not in seen and tp.__module__ not in ("builtins", "typing", "pathlib"):
        seen.add(id(tp))
        for base in tp.__mro__[1:]:
            problem = _type_problem(base, seen) if standin_of(base) else None
            if problem:
                return problem
        try:
            hints = typing.get_type_hints(tp, include_extras=True) if _is_model(tp) else {}
        except Exception:
            hints = {}
        for hint in hints.values():
            problem = _type_problem(hint, seen)
            if problem:
                return problem
    return None


def _is_model(tp: type) -> bool:
    return dataclasses.is_dataclass(tp) or typing.is_typeddict(tp) or hasattr(tp, "model_fields") or (
        "__annotations__" in vars(tp) and not issubclass(tp, enum.Enum)
    )
