"""The OpenAPI 3.0.2 document of a runner: its parsed signature (:class:`Signature`, which input
validation in ``_inputs`` uses too) and the document's paths and components, in Cog's order.

See ``_schema`` for the byte-for-byte promise; ``_introspect`` says what annotations mean and
``_jsonwriter`` writes the result.
"""
import dataclasses
import inspect
import typing

from ._constraints import SCHEMA_KEYWORDS, broken_constraint
from ._introspect import (
    SchemaError,
    TypeSpec,
    _literal_json_type,
    is_iterator_type,
    output_type_schema,
    parse_input_type,
    title,
)
from ._jsonwriter import Ordered, _json_text, _json_value
from .input import MISSING, FieldInfo


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
    value, info = field.default, field.info
    if value is MISSING or value is None:
        return
    broken = broken_constraint(field, value)
    if broken is None:
        return
    if broken == "choices":
        reason = f"it is not one of the choices {_json_text(list(field.choices))}"
    elif broken == "ge":
        reason = f"it is less than the minimum {_json_text(info.ge)} (ge)"
    elif broken == "le":
        reason = f"it is greater than the maximum {_json_text(info.le)} (le)"
    elif broken == "min_length":
        reason = f"it is shorter than min_length {info.min_length}"
    elif broken == "max_length":
        reason = f"it is longer than max_length {info.max_length}"
    else:
        reason = f"it does not match regex {info.regex!r}"
    raise SchemaError(f"invalid default value {_json_text(value)} for parameter '{field.name}': {reason}")


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
    for limit, keyword in SCHEMA_KEYWORDS.items():
        if getattr(info, limit) is not None:
            prop[keyword] = getattr(info, limit)
    if info.deprecated:
        prop["deprecated"] = True
    if info.accept is not None:
        prop["x-cog-accept"] = info.accept
    prop["x-order"] = field.order
    return prop, component


_PRIMITIVES_BY_KIND = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}

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
