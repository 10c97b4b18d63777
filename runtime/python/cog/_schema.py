"""OpenAPI 3.0.2 document of a runner, from runtime introspection of its signature.

The document matches what Cog's static generator emits, byte for byte once serialised with
:func:`dumps`: compact JSON, keys of ordinary objects sorted (Cog builds them as Go maps), while
``paths``, ``components.schemas`` and every ``properties`` map keep insertion order (signature
order for inputs). Strings and numbers are written the way Go's ``encoding/json`` writes them
(``<``, ``>``, ``&`` escaped; ``1.0`` written as ``1``).

The same parsed signature (:class:`Signature`) drives input validation in ``_inputs``.
"""
import collections.abc
import dataclasses
import enum
import inspect
import io
import json
import math
import os
import re
import sys
import types
import typing
import warnings

from .input import MISSING, FieldInfo
from .types import AsyncConcatenateIterator, ConcatenateIterator, File, Opaque, Path, Secret

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required
else:  # pragma: no cover - 3.10
    NotRequired = Required = None


class SchemaError(ValueError):
    """The runner's signature cannot be described (Cog fails the build with the same message)."""


class Ordered(dict):
    """A JSON object whose keys keep insertion order when serialised."""


# ---------------------------------------------------------------------------------------------
# Types


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


def _base_schema(spec: TypeSpec) -> dict:
    if spec.kind in ("string", "integer", "number", "boolean", "object"):
        return {"type": spec.kind}
    if spec.kind in ("path", "file"):
        return {"format": "uri", "type": "string"}
    if spec.kind == "secret":
        return {"format": "password", "type": "string", "writeOnly": True, "x-cog-secret": True}
    if spec.kind == "array":
        return {"items": _base_schema(spec.item), "type": "array"}
    if spec.kind == "union":
        return {"anyOf": [_base_schema(m) for m in spec.members]}
    if spec.kind == "enum":
        schema = {"enum": list(spec.values)}
        json_type = _literal_json_type(spec.values)
        if json_type:
            schema["type"] = json_type
        return schema
    raise AssertionError(spec.kind)


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclasses.dataclass
class InputField:
    """One runner parameter as the schema and the validator see it."""

    name: str
    order: int
    spec: TypeSpec
    info: FieldInfo
    required: bool
    default: typing.Any  # MISSING when the field has no default
    choices: typing.Optional[typing.List[typing.Any]]  # from Input(choices=) or Literal

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


def title(name: str) -> str:
    """``no_default`` → ``No Default``."""
    return " ".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _make_field(name: str, order: int, annotation: typing.Any, raw_default: typing.Any, where: str) -> InputField:
    info = raw_default if isinstance(raw_default, FieldInfo) else FieldInfo(default=raw_default)
    spec = parse_input_type(annotation, f"parameter '{name}' of {where}")
    if info.accept is not None and spec.kind not in ("path", "file") and not (
        spec.kind == "array" and spec.item.kind in ("path", "file")
    ):
        raise SchemaError(f"accept is only valid on Path or File inputs (parameter '{name}')")
    default = info.default
    if default is None and not spec.nullable:
        if spec.kind in ("string", "integer", "number", "boolean", "enum"):
            default = MISSING  # `seed: int = Input(default=None)` still means "required"
        else:
            spec.nullable = True  # Secret, Path, File, list, dict: None makes the input optional
    choices = info.choices
    if spec.kind == "enum":
        choices = spec.values
    elif choices is not None and spec.kind not in ("string", "integer", "number"):
        raise SchemaError(f"choices are only supported on str and int inputs (parameter '{name}')")
    required = default is MISSING and not spec.nullable
    field = InputField(name, order, spec, info, required, default, choices)
    _check_default(field)
    return field


def _check_default(field: InputField) -> None:
    # Worded as Cog's: "invalid default ...", naming the minimum/maximum/choices it breaks.
    value, info, name = field.default, field.info, field.name
    if value is MISSING or value is None:
        return
    where = f"invalid default value {_json_text(value)} for parameter '{name}'"
    if field.choices is not None and value not in field.choices:
        raise SchemaError(f"{where}: it is not one of the choices {_json_text(list(field.choices))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if info.ge is not None and value < info.ge:
            raise SchemaError(f"{where}: it is less than the minimum {_json_text(info.ge)} (ge)")
        if info.le is not None and value > info.le:
            raise SchemaError(f"{where}: it is greater than the maximum {_json_text(info.le)} (le)")
    if isinstance(value, str):
        if info.min_length is not None and len(value) < info.min_length:
            raise SchemaError(f"{where}: it is shorter than min_length {info.min_length}")
        if info.max_length is not None and len(value) > info.max_length:
            raise SchemaError(f"{where}: it is longer than max_length {info.max_length}")
        if info.regex is not None and not re.search(info.regex, value):
            raise SchemaError(f"{where}: it does not match regex {info.regex!r}")


def input_property(field: InputField, enum_name: str) -> typing.Tuple[dict, typing.Optional[dict]]:
    """The property schema of ``field`` and, for choices/Literal, its enum component."""
    info = field.info
    component = None
    if field.choices is not None:
        component = {"description": "An enumeration.", "enum": list(field.choices), "title": enum_name}
        json_type = _literal_json_type(field.choices) if field.spec.kind == "enum" else _PRIMITIVES_BY_KIND.get(field.spec.kind)
        if json_type:
            component["type"] = json_type
        prop = {"allOf": [{"$ref": f"#/components/schemas/{enum_name}"}]}
    else:
        prop = _base_schema(field.spec)
        prop["title"] = title(field.name)
    if field.has_default:
        prop["default"] = _json_value(field.default)
    if field.spec.nullable:
        prop["nullable"] = True
    if info.description is not None:
        prop["description"] = info.description
    if info.ge is not None:
        prop["minimum"] = info.ge
    if info.le is not None:
        prop["maximum"] = info.le
    if info.min_length is not None:
        prop["minLength"] = info.min_length
    if info.max_length is not None:
        prop["maxLength"] = info.max_length
    if info.regex is not None:
        prop["pattern"] = info.regex
    if info.deprecated:
        prop["deprecated"] = True
    if info.accept is not None:
        prop["x-cog-accept"] = info.accept
    prop["x-order"] = field.order
    return prop, component


_PRIMITIVES_BY_KIND = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


# ---------------------------------------------------------------------------------------------
# Outputs


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


# ---------------------------------------------------------------------------------------------
# Signatures


@dataclasses.dataclass
class Signature:
    """The inputs and output of one runner callable (``run``/``predict``/``train``)."""

    fields: typing.List[InputField]
    output_annotation: typing.Any
    output_schema: dict
    streaming: bool = False

    @property
    def is_iterator(self) -> bool:
        return is_iterator_type(self.output_annotation)


def inspect_callable(fn: typing.Callable, where: str, skip_first: bool = False) -> Signature:
    """Parse the parameters and return annotation of ``fn`` (a function or bound method).

    ``skip_first`` drops ``self`` when ``fn`` is a method taken from the class, not an instance.
    """
    function = getattr(fn, "__func__", fn)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as error:  # NameError for unresolvable forward references, mostly
        raise SchemaError(f"cannot resolve type annotations on {where}: {error}") from error
    fields = []
    params = list(inspect.signature(fn).parameters.values())
    for param in params[1:] if skip_first else params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name not in hints:
            raise SchemaError(f"missing type annotation for parameter '{param.name}' on {where}")
        raw_default = MISSING if param.default is inspect.Parameter.empty else param.default
        fields.append(_make_field(param.name, len(fields), hints[param.name], raw_default, where))
    if "return" not in hints:
        raise SchemaError(f"missing return type annotation on {where}")
    output = hints["return"]
    schema = output_type_schema(output, where, top_level=True)
    streaming = bool(getattr(fn, "_cog_streaming", False))
    return Signature(fields, output, schema, streaming)


# ---------------------------------------------------------------------------------------------
# The document

_OK_ANY = {"content": {"application/json": {"schema": {}}}, "description": "Successful Response"}
_VALIDATION_ERROR = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
    "description": "Validation Error",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclasses.dataclass(frozen=True)
class _Mode:
    collection: str  # predictions | trainings
    singular: str  # prediction | training
    prefix: str  # "" | Training
    request: str
    response: str
    summary: str
    description: str
    operation: str


_MODES = {
    "predict": _Mode("predictions", "prediction", "", "PredictionRequest", "PredictionResponse", "Predict",
                     "Run a single prediction on the model", "predict_predictions_post"),
    "train": _Mode("trainings", "training", "Training", "TrainingRequest", "TrainingResponse", "Train",
                   "Run a single training on the model", "train_trainings_post"),
}


def _mode_paths(mode: _Mode, streaming: bool) -> Ordered:
    operation = {
        "description": mode.description,
        "operationId": mode.operation,
        "requestBody": {"content": {"application/json": {"schema": _ref(mode.request)}}},
        "responses": {
            "200": {"content": {"application/json": {"schema": _ref(mode.response)}}, "description": "Successful Response"},
            "422": _VALIDATION_ERROR,
        },
        "summary": mode.summary,
    }
    if streaming:
        operation["x-cog-streaming"] = True
    param = f"{mode.singular}_id"
    cancel = {
        "operationId": f"cancel_{mode.collection}__{param}__cancel_post",
        "parameters": [
            {"in": "path", "name": param, "required": True, "schema": {"title": title(param), "type": "string"}}
        ],
        "responses": {"200": _OK_ANY, "422": _VALIDATION_ERROR},
        "summary": "Cancel",
    }
    paths = Ordered()
    paths[f"/{mode.collection}"] = {"post": operation}
    paths[f"/{mode.collection}/{{{param}}}/cancel"] = {"post": cancel}
    return paths


def _mode_schemas(mode: _Mode, signature: Signature) -> Ordered:
    input_name, output_name = f"{mode.prefix}Input", f"{mode.prefix}Output"
    properties = Ordered()
    enums = Ordered()
    for field in signature.fields:
        prop, component = input_property(field, field.name)
        properties[field.name] = prop
        if component is not None:
            enums[field.name] = component
    input_schema = {"properties": properties, "title": input_name, "type": "object"}
    required = [f.name for f in signature.fields if f.required]
    if required:
        input_schema["required"] = required
    output_schema = dict(signature.output_schema)
    output_schema["title"] = output_name
    request_properties = Ordered(id={"title": "Id", "type": "string"}, input=_ref(input_name))
    response_properties = Ordered(input=_ref(input_name), output=_ref(output_name))
    for name in ("id", "version"):
        response_properties[name] = {"title": title(name), "type": "string"}
    for name in ("created_at", "started_at", "completed_at"):
        response_properties[name] = {"format": "date-time", "title": title(name), "type": "string"}
    for name in ("status", "error", "logs"):
        response_properties[name] = {"title": title(name), "type": "string"}
    response_properties["metrics"] = {"title": "Metrics", "type": "object"}
    schemas = Ordered()
    schemas[input_name] = input_schema
    schemas[output_name] = output_schema
    schemas.update(enums)
    schemas[mode.request] = {"properties": request_properties, "title": mode.request, "type": "object"}
    schemas[mode.response] = {"properties": response_properties, "title": mode.response, "type": "object"}
    return schemas


def _shared_schemas() -> Ordered:
    schemas = Ordered()
    schemas["Status"] = {
        "description": "An enumeration.",
        "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
        "title": "Status",
        "type": "string",
    }
    schemas["HTTPValidationError"] = {
        "properties": Ordered(detail={"items": _ref("ValidationError"), "title": "Detail", "type": "array"}),
        "title": "HTTPValidationError",
        "type": "object",
    }
    schemas["ValidationError"] = {
        "properties": Ordered(
            loc={"items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "title": "Location", "type": "array"},
            msg={"title": "Message", "type": "string"},
            type={"title": "Error Type", "type": "string"},
        ),
        "required": ["loc", "msg", "type"],
        "title": "ValidationError",
        "type": "object",
    }
    return schemas


def openapi_document(
    version: str,
    predict: typing.Optional[Signature] = None,
    train: typing.Optional[Signature] = None,
) -> dict:
    """The whole document; with both signatures the train paths and components are merged in."""
    paths = Ordered()
    paths["/"] = {"get": {"operationId": "root__get", "responses": {"200": _OK_ANY}, "summary": "Root"}}
    paths["/health-check"] = {
        "get": {"operationId": "healthcheck_health_check_get", "responses": {"200": _OK_ANY}, "summary": "Healthcheck"}
    }
    schemas = Ordered()
    shared_added = False
    for mode_name, signature in (("predict", predict), ("train", train)):
        if signature is None:
            continue
        mode = _MODES[mode_name]
        paths.update(_mode_paths(mode, signature.streaming and mode_name == "predict"))
        for name, schema in _mode_schemas(mode, signature).items():
            schemas.setdefault(name, schema)
        if not shared_added:
            schemas.update(_shared_schemas())
            shared_added = True
    return {
        "components": {"schemas": schemas},
        "info": {"title": "Cog", "version": version},
        "openapi": "3.0.2",
        "paths": paths,
    }


# ---------------------------------------------------------------------------------------------
# Serialisation (Go encoding/json compatible)


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
