"""JSON the way Cog's Go generator writes it: compact, keys of ordinary objects sorted (Cog builds
them as Go maps) while an :class:`Ordered` object keeps insertion order, and strings and numbers as
Go's ``encoding/json`` writes them (``<``, ``>``, ``&`` escaped; ``1.0`` written as ``1``).
"""
import enum
import json
import math
import os
import re
import typing

from .types import Secret


class Ordered(dict):
    """A JSON object whose keys keep insertion order when serialised."""


def _json_value(value: typing.Any) -> typing.Any:
    """A default value as plain JSON data."""
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if isinstance(value, (os.PathLike,)):
        return os.fspath(value)
    if isinstance(value, Secret):
        return value.get_secret_value()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _json_text(value: typing.Any) -> str:
    return dumps(_json_value(value))


def _go_float(number: float) -> str:
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"unsupported value: {number!r}")
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    magnitude = abs(number)
    if magnitude < 1e-6 or magnitude >= 1e21:
        # Go's 'e' format, then its clean-up of a two-digit negative exponent: e-07 -> e-7.
        return re.sub(r"e-0(\d)$", r"e-\1", repr(number))
    import decimal  # here: most schemas have no float to format, and decimal costs ~1 ms to import

    text = format(decimal.Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _go_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return (
        encoded.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def dumps(value: typing.Any) -> str:
    """Compact JSON with Cog's key order (see the module docstring)."""
    parts: typing.List[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: typing.Any, out: typing.List[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_go_string(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_go_float(value))
    elif isinstance(value, dict):
        keys = list(value) if isinstance(value, Ordered) else sorted(value)
        out.append("{")
        for index, key in enumerate(keys):
            if index:
                out.append(",")
            out.append(_go_string(str(key)))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} into the OpenAPI document")
