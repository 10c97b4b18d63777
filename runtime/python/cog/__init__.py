"""The cog SDK: what model code imports (``from cog import BaseRunner, Input, Path``)."""
import sys as _sys

from ._scope import current_scope
from ._version import __version__
from .decorators import concurrent, streaming
from .exceptions import CancelationException
from .input import FieldInfo, Input
from .model import BaseModel
from .predictor import BasePredictor, BaseRunner
from .types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Opaque,
    Path,
    Secret,
    URLFile,
    URLPath,
)

__all__ = [
    "__version__",
    "BaseRunner",
    "BasePredictor",
    "BaseModel",
    "Opaque",
    "Input",
    "FieldInfo",
    "Path",
    "Secret",
    "File",
    "URLFile",
    "URLPath",
    "ConcatenateIterator",
    "AsyncConcatenateIterator",
    "CancelationException",
    "current_scope",
    "streaming",
    "concurrent",
    "ExperimentalFeatureWarning",
    "emit_metric",
]

_notices_shown = set()


def _notice_once(key: str, text: str) -> None:
    if key not in _notices_shown:
        _notices_shown.add(key)
        print(f"cog: warning: {text}", file=_sys.stderr)


class _ExperimentalFeatureWarning(FutureWarning):
    """Deprecated: cog no longer marks features as experimental."""


_ExperimentalFeatureWarning.__name__ = _ExperimentalFeatureWarning.__qualname__ = "ExperimentalFeatureWarning"


def _emit_metric(name, value):
    """Deprecated: use ``current_scope().record_metric(name, value)``."""
    _notice_once("emit_metric", "cog.emit_metric is deprecated — use current_scope().record_metric() instead")
    current_scope().record_metric(name, value)


def __getattr__(name):
    # Deprecated names resolve lazily so that only code that still uses them sees the notice.
    if name == "ExperimentalFeatureWarning":
        _notice_once(
            name,
            "cog.ExperimentalFeatureWarning is deprecated and will be removed — stop filtering on it",
        )
        return _ExperimentalFeatureWarning
    if name == "emit_metric":
        return _emit_metric
    raise AttributeError(f"module 'cog' has no attribute {name!r}")
