"""Finding the user's runner from a ``file.py:Name`` reference (Cog §5.2)."""
import dataclasses
import importlib.util
import inspect
import os
import sys
import types
import typing
import warnings

from ._schema import Signature, inspect_callable
from .predictor import PLACEHOLDER_METHODS


class LoadError(Exception):
    """The reference does not name a usable runner; the message is Cog's."""


@dataclasses.dataclass
class Target:
    module: types.ModuleType
    name: str
    instance: typing.Any  # None for function runners (and when not instantiated)
    function: typing.Callable  # what runs a prediction: bound method or plain function
    signature: Signature


def parse_ref(ref: str, mode: str) -> typing.Tuple[str, typing.Optional[str]]:
    path, sep, name = ref.partition(":")
    if not path.endswith(".py") or (sep and not name.isidentifier()):
        raise LoadError(
            f"invalid {mode} reference '{ref}' — expected format: file.py:ClassName or file.py:function_name"
        )
    return path, (name if sep else None)


def import_file(path: str, project_dir: str) -> types.ModuleType:
    """Import a file by path as a module named after its stem, with the project importable."""
    project_dir = os.path.abspath(project_dir)
    full_path = os.path.join(project_dir, path)
    if not os.path.isfile(full_path):
        raise LoadError(f"predictor not found: {path} does not exist in {project_dir}")
    for entry in (os.path.dirname(full_path), project_dir):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if os.getcwd() != project_dir:
        os.chdir(project_dir)
    module_name = os.path.splitext(os.path.basename(full_path))[0]
    spec = importlib.util.spec_from_file_location(module_name, full_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _defines(cls: type, method: str) -> bool:
    function = inspect.getattr_static(cls, method, None)
    return function is not None and function not in PLACEHOLDER_METHODS


def _method_name(cls: type, name: str, mode: str) -> str:
    if mode == "train":
        if not _defines(cls, "train"):
            raise LoadError(f"train method not found on {name}")
        return "train"
    has_run, has_predict = _defines(cls, "run"), _defines(cls, "predict")
    if has_run and has_predict:
        raise LoadError(f"{name} must define either run() or predict(), not both")
    if not has_run and not has_predict:
        raise LoadError(f"run or predict method not found: {name}")
    if has_predict:
        warnings.warn(f"{name}.predict() is deprecated, rename it to run()", DeprecationWarning, stacklevel=2)
    return "run" if has_run else "predict"


def load_target(ref: str, mode: str = "predict", project_dir: str = ".", instantiate: bool = True) -> Target:
    if mode not in ("predict", "train"):
        raise LoadError(f"unknown mode '{mode}' — expected predict or train")
    path, name = parse_ref(ref, mode)
    module = import_file(path, project_dir)
    if name is None:
        name = next((n for n in ("Runner", "Predictor") if isinstance(getattr(module, n, None), type)), None)
        if name is None:
            raise LoadError(f"predictor not found: neither Runner nor Predictor is defined in {path}")
    obj = getattr(module, name, None)
    if obj is None:
        raise LoadError(f"predictor not found: {name}")
    if inspect.isclass(obj):
        if name == "Predictor":
            warnings.warn("a runner class named Predictor is deprecated, name it Runner", DeprecationWarning, stacklevel=2)
        method = _method_name(obj, name, mode)
        where = f"{name}.{method}"
        if instantiate:
            instance = obj()
            function = getattr(instance, method)
            signature = inspect_callable(function, where)
        else:
            instance = None
            function = getattr(obj, method)
            signature = inspect_callable(function, where, skip_first=not isinstance(inspect.getattr_static(obj, method), staticmethod))
        return Target(module, name, instance, function, signature)
    if callable(obj):
        return Target(module, name, None, obj, inspect_callable(obj, name))
    raise LoadError(f"predictor not found: {name} is neither a class nor a function")
