"""Runner outputs → JSON-ready values (Cog's ``make_encodeable`` plus file handling)."""
import dataclasses
import datetime
import enum
import io
import os
import pathlib
import typing

from . import _files
from .types import Secret

FileEncoder = typing.Callable[[bytes, str], str]


def _model_items(value: typing.Any) -> typing.Optional[typing.Dict[str, typing.Any]]:
    cls = type(value)
    fields = getattr(cls, "model_fields", None)  # pydantic v2
    if isinstance(fields, dict) and hasattr(value, "model_dump"):
        return {name: getattr(value, name) for name in fields}
    fields = getattr(cls, "__fields__", None)  # pydantic v1
    if isinstance(fields, dict) and hasattr(value, "dict"):
        return {name: getattr(value, name) for name in fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    from .model import BaseModel

    if isinstance(value, BaseModel):  # auto_dataclass=False models
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return None


def _is_file_like(value: typing.Any) -> bool:
    return isinstance(value, io.IOBase) or (hasattr(value, "read") and callable(value.read))


def _read_file(value: typing.Any) -> typing.Tuple[bytes, str]:
    if isinstance(value, (pathlib.PurePath, os.PathLike)):
        path = os.fspath(value)
        with open(path, "rb") as handle:
            return handle.read(), os.path.basename(path)
    if hasattr(value, "seekable") and value.seekable():
        value.seek(0)
    data = value.read()
    if isinstance(data, str):
        data = data.encode()
    name = getattr(value, "name", None)
    return data, os.path.basename(name) if isinstance(name, str) and name else "output"


def encode(value: typing.Any, encode_file: FileEncoder) -> typing.Any:
    """Turn ``value`` into JSON data; files go through ``encode_file(bytes, name) -> url``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Secret):
        return str(value)
    if isinstance(value, enum.Enum):
        return encode(value.value, encode_file)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (pathlib.PurePath, os.PathLike)) or _is_file_like(value):
        data, name = _read_file(value)
        return encode_file(data, name)
    if isinstance(value, dict):
        return {str(encode(k, encode_file)): encode(v, encode_file) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v, encode_file) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return encode(value.tolist(), encode_file)
    items = _model_items(value)
    if items is not None:
        return {name: encode(v, encode_file) for name, v in items.items()}
    if isinstance(value, (bytes, bytearray)):
        return encode_file(bytes(value), "output")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def file_encoder(upload_url: typing.Optional[str], prediction_id: str = "") -> FileEncoder:
    """Data URLs without an upload URL, else PUT uploads (§4.13)."""
    if upload_url:
        return lambda data, name: _files.upload(data, name, upload_url, prediction_id)
    return _files.data_url
