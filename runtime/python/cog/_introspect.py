"""What a runner's type annotations mean: input annotations parsed into :class:`TypeSpec`,
output annotations turned into their JSON schema, and the names and tests both share.

Part of the OpenAPI document (see ``_schema``); errors are :class:`SchemaError`, worded as Cog's.
"""
import collections.abc
import dataclasses
import enum
import io
import os
import sys
import types
import typing
import warnings

from ._jsonwriter import Ordered
from .types import AsyncConcatenateIterator, ConcatenateIterator, File, Opaque, Path, Secret

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required
else:  # pragma: no cover - 3.10
    NotRequired = Required = None


class SchemaError(ValueError):
    """The runner's signature cannot be described (Cog fails the build with the same message)."""


def title(name: str) -> str:
    """``no_default`` → ``No Default``."""
    return " ".join(part[:1].upper() + part[1:] for part in name.split("_") if part)



@dataclasses.dataclass
class TypeSpec:
    """A parsed input annotation."""

    kind: str  # string integer number boolean path file secret array object union enum
    item: typing.Optional["TypeSpec"] = None  # array element
    members: typing.List["TypeSpec"] = dataclasses.field(default_factory=list)  # union members
    values: typing.List[typing.Any] = dataclasses.field(default_factory=list)  # Literal values
    nullable: bool = False

    @property
    def is_file(self) -> bool:
        return self.kind in ("path", "file") or (self.kind == "array" and self.item.is_file)


_NONE = type(None)
_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}
_ITERATORS = (
    collections.abc.Iterator,
    collections.abc.Generator,
    collections.abc.Iterable,
)
_ASYNC_ITERATORS = (
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.AsyncIterable,
)


def type_name(tp: typing.Any) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _is_union(tp: typing.Any) -> bool:
    origin = typing.get_origin(tp)
    return origin is typing.Union or origin is getattr(types, "UnionType", ())


def _split_annotated(tp: typing.Any) -> typing.Tuple[typing.Any, bool]:
    """(base type, whether ``Opaque`` is among the metadata)."""
    opaque = False
    while typing.get_origin(tp) is typing.Annotated:
        base, *metadata = typing.get_args(tp)
        opaque = opaque or any(m is Opaque or isinstance(m, Opaque) for m in metadata)
        tp = base
    return tp, opaque


def _is_subclass(tp: typing.Any, base: type) -> bool:
    # On 3.10, list[str] passes isinstance(..., type) but issubclass() rejects it.
    if not isinstance(tp, type) or typing.get_origin(tp) is not None:
        return False
    try:
        return issubclass(tp, base)
    except TypeError:
        return False


def _is_path(tp: typing.Any) -> bool:
    return _is_subclass(tp, Path) or _is_subclass(tp, os.PathLike)


def _is_file(tp: typing.Any) -> bool:
    return _is_subclass(tp, File) or _is_subclass(tp, io.IOBase) or tp is typing.IO or typing.get_origin(tp) is typing.IO


def _is_object_type(tp: typing.Any) -> bool:
    return (
        tp is dict
        or tp is typing.Dict
        or typing.get_origin(tp) is dict
        or tp is typing.Any
        or typing.is_typeddict(tp)
    )


def parse_input_type(tp: typing.Any, where: str) -> TypeSpec:
    tp, opaque = _split_annotated(tp)
    if opaque:
        if typing.get_origin(tp) is list or tp is list:
            return TypeSpec("array", item=TypeSpec("object"))
        return TypeSpec("object")
    if _is_union(tp):
        args = typing.get_args(tp)
        rest = [a for a in args if a is not _NONE]
        if len(rest) == 1:
            spec = parse_input_type(rest[0], where)
            spec.nullable = True
            return spec
        members = []
        for member in rest:
            spec = parse_input_type(member, where)
            if spec.kind not in ("string", "integer", "number", "boolean", "object", "array") or (
                spec.kind == "array" and spec.is_file
            ):
                raise SchemaError(
                    f"unsupported type: {type_name(tp)} on {where} — unions may only combine JSON types "
                    "(str, int, float, bool, dict, list, None)"
                )
            members.append(spec)
        return TypeSpec("union", members=members, nullable=len(rest) != len(args))
    if typing.get_origin(tp) is typing.Literal:
        return TypeSpec("enum", values=list(typing.get_args(tp)))
    if tp in _PRIMITIVES:
        return TypeSpec(_PRIMITIVES[tp])
    if _is_subclass(tp, Secret):
        return TypeSpec("secret")
    if _is_path(tp):
        return TypeSpec("path")
    if _is_file(tp):
        warnings.warn("cog.File inputs are deprecated, use cog.Path instead", DeprecationWarning, stacklevel=2)
        return TypeSpec("file")
    if tp is list or tp is typing.List or typing.get_origin(tp) is list:
        args = typing.get_args(tp)
        if not args:
            return TypeSpec("array", item=TypeSpec("object"))
        item = parse_input_type(args[0], where)
        if item.kind in ("array", "union") or item.nullable:
            raise SchemaError(f"unsupported type: {type_name(tp)} on {where} — nested generics are not supported")
        return TypeSpec("array", item=item)
    if _is_object_type(tp):
        return TypeSpec("object")
    raise SchemaError(f"unsupported type: {type_name(tp)} on {where}")


def _literal_json_type(values: typing.Sequence[typing.Any]) -> typing.Optional[str]:
    kinds = {_PRIMITIVES.get(type(v)) for v in values}
    return kinds.pop() if len(kinds) == 1 else None



def _model_fields(tp: typing.Any) -> typing.Optional[typing.List[typing.Tuple[str, typing.Any, bool]]]:
    """(name, annotation, required) for BaseModel/dataclass/pydantic/TypedDict classes, else None."""
    if not isinstance(tp, type) or typing.get_origin(tp) is not None:
        return None
    if typing.is_typeddict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        required_keys = getattr(tp, "__required_keys__", set(hints))
        return [(name, _strip_required(hint), name in required_keys) for name, hint in hints.items()]
    pydantic_v2 = getattr(tp, "model_fields", None)
    if isinstance(pydantic_v2, dict) and hasattr(tp, "model_dump"):
        return [(name, f.annotation, f.is_required()) for name, f in pydantic_v2.items()]
    pydantic_v1 = getattr(tp, "__fields__", None)
    if isinstance(pydantic_v1, dict) and hasattr(tp, "dict") and hasattr(tp, "parse_obj"):
        return [(name, f.outer_type_ if not f.allow_none else typing.Optional[f.outer_type_], f.required) for name, f in pydantic_v1.items()]
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        return [
            (f.name, hints.get(f.name, typing.Any), f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(tp)
        ]
    from .model import BaseModel  # opt-out models (auto_dataclass=False) are plain annotated classes

    if issubclass(tp, BaseModel):
        hints = typing.get_type_hints(tp, include_extras=True)
        return [(name, hint, not hasattr(tp, name)) for name, hint in hints.items()]
    return None


def _strip_required(tp: typing.Any) -> typing.Any:
    origin = typing.get_origin(tp)
    # typing's markers on 3.11+, typing_extensions' on 3.10 (same names).
    if origin is not None and (origin in (NotRequired, Required) or repr(origin).endswith(("NotRequired", ".Required"))):
        return typing.get_args(tp)[0]
    return tp


def output_type_schema(tp: typing.Any, where: str, top_level: bool = False) -> dict:
    tp, opaque = _split_annotated(tp)
    if opaque:
        if typing.get_origin(tp) is list or tp is list:
            return {"items": {"type": "object"}, "type": "array"}
        return {"type": "object"}
    if _is_union(tp):
        args = typing.get_args(tp)
        rest = [a for a in args if a is not _NONE]
        if top_level:
            if len(rest) != len(args):
                raise SchemaError("unsupported output type: Optional is not allowed as a return type")
            raise SchemaError(f"unsupported output type: {type_name(tp)} — unions are not allowed as a return type")
        if len(rest) == 1:
            schema = output_type_schema(rest[0], where)
        else:
            schema = {"anyOf": [output_type_schema(m, where) for m in rest]}
        if len(rest) != len(args):
            schema["nullable"] = True
        return schema
    origin = typing.get_origin(tp) or tp
    args = typing.get_args(tp)
    if origin in (ConcatenateIterator, AsyncConcatenateIterator):
        item = args[0] if args else str
        if item is not str:
            raise SchemaError(f"ConcatenateIterator element type must be str, got {type_name(item)}")
        return {"items": {"type": "string"}, "type": "array", "x-cog-array-display": "concatenate", "x-cog-array-type": "iterator"}
    if origin in _ITERATORS or origin in _ASYNC_ITERATORS:
        item = output_type_schema(args[0], where) if args else {}
        return {"items": item, "type": "array", "x-cog-array-type": "iterator"}
    if tp in _PRIMITIVES:
        return {"type": _PRIMITIVES[tp]}
    if _is_subclass(tp, Secret):
        return {"format": "password", "type": "string", "x-cog-secret": True}
    if _is_path(tp) or _is_file(tp):
        return {"format": "uri", "type": "string"}
    if origin is list or tp is typing.List:
        return {"items": output_type_schema(args[0], where) if args else {"type": "object"}, "type": "array"}
    if origin is dict or tp is typing.Dict:
        schema = {"type": "object"}
        if len(args) == 2 and args[1] is not typing.Any:
            schema["additionalProperties"] = output_type_schema(args[1], where)
        return schema
    if tp is typing.Any or tp is object:
        return {}
    if tp is _NONE or tp is None:
        return {"nullable": True}
    if _is_subclass(tp, enum.Enum):
        values = [member.value for member in tp]
        schema = {"enum": values}
        json_type = _literal_json_type(values)
        if json_type:
            schema["type"] = json_type
        return schema
    if origin is typing.Literal:
        schema = {"enum": list(args)}
        json_type = _literal_json_type(args)
        if json_type:
            schema["type"] = json_type
        return schema
    fields = _model_fields(tp)
    if fields is not None:
        properties = Ordered()
        required = []
        for name, annotation, is_required in fields:
            prop = output_type_schema(annotation, f"field '{name}' of {type_name(tp)}")
            prop["title"] = title(name)
            properties[name] = prop
            if is_required and not prop.get("nullable"):
                required.append(name)
        schema = {"properties": properties, "type": "object"}
        if required:
            schema["required"] = required
        return schema
    raise SchemaError(f"unsupported output type: {type_name(tp)} on {where}")


def is_iterator_type(tp: typing.Any) -> bool:
    tp, _ = _split_annotated(tp)
    origin = typing.get_origin(tp) or tp
    return origin in _ITERATORS or origin in _ASYNC_ITERATORS or origin in (ConcatenateIterator, AsyncConcatenateIterator)
