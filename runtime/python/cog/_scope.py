"""The per-prediction scope: request context and user metrics.

The worker enters :func:`prediction_scope` around each prediction. The scope lives in a
``ContextVar``, so concurrent async predictions (each in its own task) see their own scope.

Metrics are merged here, in Python: dot paths become nested objects and the modes are applied,
so the worker reads the finished object with :meth:`Scope.metrics_snapshot` when the prediction
ends (and adds ``predict_time`` itself). ``on_metric(name, value, mode)`` is also called for each
accepted record (mode ``"replace"``, ``"increment"`` or ``"append"``; ``value`` as recorded,
``None`` for a deletion) so the server can stream SSE ``metric`` events.
"""
import contextlib
import contextvars
import copy
import re
import typing

_SEGMENT = re.compile(r"[A-Za-z0-9_]+")
_MODES = {"replace": "replace", "incr": "increment", "increment": "increment", "append": "append"}
_MAX_NAME_LENGTH = 128
_MAX_SEGMENTS = 4

MetricCallback = typing.Callable[[str, typing.Any, str], None]


def validate_metric_name(name: str) -> None:
    """Raise ``ValueError`` with Cog's message when ``name`` breaks a metric naming rule."""
    if not isinstance(name, str) or not name:
        raise ValueError("metric name must not be empty")
    if len(name) > _MAX_NAME_LENGTH:
        raise ValueError(
            f"metric name must be {_MAX_NAME_LENGTH} characters or fewer (got {len(name)} characters)"
        )
    if name.startswith("."):
        raise ValueError("metric name must not start with a dot")
    if name.endswith("."):
        raise ValueError("metric name must not end with a dot")
    segments = name.split(".")
    if "" in segments:
        raise ValueError("metric name must not contain empty segments (consecutive dots)")
    if len(segments) > _MAX_SEGMENTS:
        raise ValueError(
            f"metric name must have at most {_MAX_SEGMENTS} dot-separated segments (got {len(segments)})"
        )
    for segment in segments:
        if not segment[0].isascii() or not segment[0].isalpha():
            raise ValueError(f"metric name segment '{segment}' must start with a letter")
        if not _SEGMENT.fullmatch(segment):
            raise ValueError(
                f"metric name segment '{segment}' may only contain letters, digits and underscores"
            )
        if "__" in segment:
            raise ValueError(f"metric name segment '{segment}' must not contain consecutive underscores")
        if segment.endswith("_"):
            raise ValueError(f"metric name segment '{segment}' must end with a letter or digit")
    if name == "predict_time":
        raise ValueError("'predict_time' is reserved by the runtime")
    if name.startswith("cog."):
        raise ValueError("the 'cog.' prefix is reserved for system metrics")


def _kind(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    raise ValueError(
        f"metric value must be a bool, int, float, str, list or dict, got {type(value).__name__}"
    )


class MetricsStore:
    """Nested metric values of one prediction, with Cog's record modes."""

    def __init__(self, on_metric: typing.Optional[MetricCallback] = None):
        self._values: typing.Dict[str, typing.Any] = {}
        self._on_metric = on_metric

    def record(self, name: str, value: typing.Any, mode: str = "replace") -> None:
        validate_metric_name(name)
        if mode not in _MODES:
            raise ValueError(f"metric mode must be one of 'replace', 'incr', 'append', got '{mode}'")
        wire_mode = _MODES[mode]
        *parents, leaf = name.split(".")
        if value is None and wire_mode == "replace":
            self._delete(parents, leaf)
        else:
            self._apply(name, parents, leaf, value, wire_mode)
        if self._on_metric is not None:
            self._on_metric(name, value, wire_mode)

    def delete(self, name: str) -> None:
        self.record(name, None)

    def get(self, name: str) -> typing.Any:
        node: typing.Any = self._values
        for segment in name.split("."):
            if not isinstance(node, dict) or segment not in node:
                raise KeyError(name)
            node = node[segment]
        return node

    def snapshot(self) -> typing.Dict[str, typing.Any]:
        return copy.deepcopy(self._values)

    def _container(self, parents: typing.List[str], name: str, create: bool):
        node = self._values
        for segment in parents:
            child = node.get(segment)
            if child is None:
                if not create:
                    return None
                child = node[segment] = {}
            elif not isinstance(child, dict):
                raise ValueError(f"metric '{name}' conflicts with existing metric '{segment}', which is not an object")
            node = child
        return node

    def _delete(self, parents: typing.List[str], leaf: str) -> None:
        node = self._container(parents, ".".join(parents + [leaf]), create=False)
        if node is not None:
            node.pop(leaf, None)

    def _apply(self, name: str, parents: typing.List[str], leaf: str, value: typing.Any, mode: str) -> None:
        kind = _kind(value)
        node = self._container(parents, name, create=True)
        existing = node.get(leaf)
        if mode == "increment":
            if kind != "number":
                raise ValueError(f"metric '{name}': incr needs a number, got {type(value).__name__}")
            if existing is None:
                node[leaf] = value
            elif _kind(existing) != "number":
                raise ValueError(f"metric '{name}' holds a {_kind(existing)}; cannot increment it")
            else:
                node[leaf] = existing + value
        elif mode == "append":
            if existing is None:
                node[leaf] = [copy.deepcopy(value)]
            elif not isinstance(existing, list):
                raise ValueError(f"metric '{name}' holds a {_kind(existing)}; cannot append to it")
            else:
                existing.append(copy.deepcopy(value))
        else:
            if existing is not None and _kind(existing) != kind:
                raise ValueError(
                    f"metric '{name}' already holds a {_kind(existing)}; delete it before recording a {kind}"
                )
            node[leaf] = copy.deepcopy(list(value) if isinstance(value, tuple) else value)


class Metrics:
    """``scope.metrics``: dict-like access to the metrics of the current prediction."""

    def __init__(self, store: typing.Optional[MetricsStore]):
        self._store = store

    def record(self, name: str, value: typing.Any, mode: str = "replace") -> None:
        if self._store is not None:
            self._store.record(name, value, mode)

    def delete(self, name: str) -> None:
        """Remove a metric (needed before recording it again with another type)."""
        if self._store is not None:
            self._store.delete(name)

    def __setitem__(self, name: str, value: typing.Any) -> None:
        self.record(name, value)

    def __delitem__(self, name: str) -> None:
        if self._store is not None:
            self._store.delete(name)

    def __getitem__(self, name: str) -> typing.Any:
        if self._store is None:
            raise KeyError(name)
        return self._store.get(name)

    def __contains__(self, name: object) -> bool:
        try:
            self[name]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def __repr__(self) -> str:
        return f"Metrics({self._store.snapshot() if self._store else {}})"


class Scope:
    """What ``current_scope()`` returns: ``record_metric``, ``metrics`` and ``context``."""

    def __init__(
        self,
        context: typing.Optional[typing.Mapping[str, str]] = None,
        on_metric: typing.Optional[MetricCallback] = None,
        active: bool = True,
    ):
        self.context: typing.Dict[str, str] = dict(context or {})
        self._store = MetricsStore(on_metric) if active else None
        self.metrics = Metrics(self._store)

    def record_metric(self, name: str, value: typing.Any, mode: str = "replace") -> None:
        self.metrics.record(name, value, mode)

    def metrics_snapshot(self) -> typing.Dict[str, typing.Any]:
        """The merged metrics (nested objects for dot paths), without ``predict_time``."""
        return self._store.snapshot() if self._store is not None else {}

    def __repr__(self) -> str:
        return f"Scope(context={self.context!r}, metrics={self.metrics!r})"


_current: "contextvars.ContextVar[typing.Optional[Scope]]" = contextvars.ContextVar("cog_scope", default=None)


def current_scope() -> Scope:
    """The scope of the running prediction, or an inert one outside a prediction."""
    scope = _current.get()
    return scope if scope is not None else Scope(active=False)


@contextlib.contextmanager
def prediction_scope(
    context: typing.Optional[typing.Mapping[str, str]] = None,
    on_metric: typing.Optional[MetricCallback] = None,
) -> typing.Iterator[Scope]:
    """Make a fresh :class:`Scope` current for the duration of one prediction."""
    scope = Scope(context, on_metric)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        try:
            _current.reset(token)
        except ValueError:  # closed from another context (a garbage-collected coroutine)
            _current.set(None)
