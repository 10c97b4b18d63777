"""``@cog.streaming`` and ``@cog.concurrent``: options read by the worker and the schema."""
import inspect
import typing

STREAMING_ATTR = "_cog_streaming"
CONCURRENCY_ATTR = "_cog_max_concurrency"


def streaming(fn: typing.Any = None):
    """Opt ``run()`` into SSE streaming: ``@cog.streaming`` or ``@cog.streaming()``."""

    def mark(target):
        setattr(target, STREAMING_ATTR, True)
        return target

    return mark if fn is None else mark(fn)


def concurrent(fn: typing.Any = None, *, max: int = 1):  # noqa: A002 - Cog's keyword
    """Declare how many predictions an async ``run()`` may serve at once: ``@cog.concurrent(max=N)``."""
    if isinstance(max, bool) or not isinstance(max, int):
        raise TypeError(f"concurrent(max=...) must be an int, got {type(max).__name__}")
    if max < 1:
        raise ValueError(f"concurrent(max=...) must be at least 1, got {max}")

    def mark(target):
        is_async = inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)
        if max > 1 and not is_async:
            raise TypeError(
                f"@cog.concurrent(max={max}) requires an async function; "
                f"{getattr(target, '__qualname__', target)} is not async"
            )
        setattr(target, CONCURRENCY_ATTR, max)
        return target

    return mark if fn is None else mark(fn)


__all__ = ["concurrent", "streaming"]
