"""Value types that model code uses in signatures: files, secrets, streaming iterators."""
import io
import os
import pathlib
import typing
import urllib.parse
import warnings
from typing import AsyncIterator, Iterator, TypeVar

_Item = TypeVar("_Item")


def _pydantic_plain_schema(validate):
    # Imported lazily: the SDK itself never depends on pydantic, but models that put cog types
    # inside their own pydantic models need pydantic-core to accept them.
    from pydantic_core import core_schema

    return core_schema.no_info_plain_validator_function(validate)


class Path(pathlib.PosixPath):
    """A local file. Inputs arrive as this type; outputs of this type are uploaded or inlined."""

    @classmethod
    def validate(cls, value: typing.Any) -> "Path":
        if isinstance(value, cls):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(value)
        raise TypeError(f"expected a path or URL string, got {type(value).__name__}")

    @classmethod
    def __get_validators__(cls):  # pydantic v1
        yield cls.validate

    @classmethod
    def __get_pydantic_core_schema__(cls, _source, _handler):  # pydantic v2
        return _pydantic_plain_schema(cls.validate)


class URLPath(Path):
    """A path whose content lives at a URL until :meth:`convert` downloads it."""

    source: str = ""

    @classmethod
    def from_url(cls, url: str) -> "URLPath":
        name = os.path.basename(urllib.parse.urlparse(url).path) or "file"
        path = cls(name)
        path.source = url
        return path

    def convert(self) -> Path:
        # Here, not at the top: the schema generator imports this module and needs neither
        # (urllib.request costs it ~15 ms, tempfile ~2 ms: shutil, random, bz2, lzma).
        import tempfile
        import urllib.request

        directory = tempfile.mkdtemp(prefix="cog-urlpath-")
        destination = os.path.join(directory, self.name)
        with urllib.request.urlopen(self.source) as response, open(destination, "wb") as out:
            out.write(response.read())
        return Path(destination)


class Secret:
    """A string that never shows its value when printed or logged."""

    def __init__(self, secret_value: typing.Optional[str] = None):
        self._secret_value = secret_value

    def get_secret_value(self) -> typing.Optional[str]:
        return self._secret_value

    def __str__(self) -> str:
        return "**********"

    def __repr__(self) -> str:
        return "Secret(**********)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._secret_value == self._secret_value

    def __hash__(self) -> int:
        return hash(self._secret_value)

    @classmethod
    def validate(cls, value: typing.Any) -> "Secret":
        return value if isinstance(value, Secret) else cls(value)

    @classmethod
    def __get_validators__(cls):  # pydantic v1
        yield cls.validate

    @classmethod
    def __get_pydantic_core_schema__(cls, _source, _handler):  # pydantic v2
        return _pydantic_plain_schema(cls.validate)


class File(io.IOBase):
    """Deprecated: a file-like input or output. Use :class:`Path` instead."""

    def __init_subclass__(cls, **kwargs):
        warnings.warn("cog.File is deprecated, use cog.Path instead", DeprecationWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    @classmethod
    def validate(cls, value: typing.Any) -> typing.IO:
        if isinstance(value, io.IOBase) or hasattr(value, "read"):
            return value
        if isinstance(value, str):
            parsed = urllib.parse.urlparse(value)
            if parsed.scheme in ("http", "https"):
                return URLFile(value)
            return open(value, "rb")
        raise TypeError(f"expected a file or URL string, got {type(value).__name__}")

    @classmethod
    def __get_validators__(cls):  # pydantic v1
        yield cls.validate

    @classmethod
    def __get_pydantic_core_schema__(cls, _source, _handler):  # pydantic v2
        return _pydantic_plain_schema(cls.validate)


class URLFile(io.IOBase):
    """A read-only file-like object backed by a URL, opened on first read."""

    def __init__(self, url: str, filename: typing.Optional[str] = None):
        self._response = None
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError(f"URLFile requires an http(s) URL, got {url!r}")
        self.url = url
        self.name = filename or os.path.basename(urllib.parse.unquote(parsed.path)) or "file"

    def _open(self):
        if self._response is None:
            import urllib.request

            request = urllib.request.Request(self.url)
            agent = os.environ.get("COG_USER_AGENT")
            if agent:
                request.add_header("User-Agent", agent)
            self._response = urllib.request.urlopen(request)
        return self._response

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._open().read(None if size is None or size < 0 else size)

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        super().close()

    def __reduce__(self):
        return (URLFile, (self.url, self.name))

    def __repr__(self) -> str:
        return f"URLFile({getattr(self, 'url', '')!r})"


class ConcatenateIterator(Iterator[_Item]):
    """Return annotation for token streams that clients should join (``x-cog-array-display``)."""

    def __next__(self) -> _Item:  # pragma: no cover - only a type marker
        raise StopIteration


class AsyncConcatenateIterator(AsyncIterator[_Item]):
    """The async form of :class:`ConcatenateIterator`."""

    async def __anext__(self) -> _Item:  # pragma: no cover - only a type marker
        raise StopAsyncIteration


class Opaque:
    """Marker for ``Annotated[T, Opaque]``: the value is passed through as a plain JSON object."""


__all__ = [
    "AsyncConcatenateIterator",
    "ConcatenateIterator",
    "File",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
]
