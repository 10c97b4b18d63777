"""OpenAPI documents generated from runner signatures (Cog §5.5, §5.6, §5.9)."""
import json
import re
import sys

import pytest
from conftest import FIXTURES, GOLDEN, fixture_runner

from cog import _schema
from cog._worker import openapi_for_project

VERSION = "0.22.0"

# Every fragment that §5.9 of the reference spells out in full, in serialised form.
WORKED_EXAMPLE_FRAGMENTS = [
    '"openapi":"3.0.2"',
    '"info":{"title":"Cog","version":"0.22.0"}',
    '"/":{"get":{"operationId":"root__get","responses":{"200":{"content":{"application/json":{"schema":{}}},'
    '"description":"Successful Response"}},"summary":"Root"}}',
    '"no_default":{"title":"No Default","type":"string","x-order":0}',
    '"default_without_input":{"default":"default","title":"Default Without Input","type":"string","x-order":1}',
    '"input_with_default":{"default":10,"title":"Input With Default","type":"integer","x-order":2}',
    '"path":{"description":"Some path","format":"uri","title":"Path","type":"string","x-order":3}',
    '"image":{"description":"Some path","format":"uri","title":"Image","type":"string","x-order":4}',
    '"choices":{"allOf":[{"$ref":"#/components/schemas/choices"}],"x-order":5}',
    '"int_choices":{"allOf":[{"$ref":"#/components/schemas/int_choices"}],"description":"hello","x-order":6}',
    '"required":["no_default","path","image","choices","int_choices"]',
    '"Output":{"title":"Output","type":"string"}',
    '"choices":{"description":"An enumeration.","enum":["foo","bar"],"title":"choices","type":"string"}',
    '"int_choices":{"description":"An enumeration.","enum":[3,4,5],"title":"int_choices","type":"integer"}',
    '"PredictionRequest":{"properties":{"id":{"title":"Id","type":"string"},'
    '"input":{"$ref":"#/components/schemas/Input"}},"title":"PredictionRequest","type":"object"}',
    '"Status":{"description":"An enumeration.","enum":["starting","processing","succeeded","canceled","failed"],'
    '"title":"Status","type":"string"}',
    '"HTTPValidationError":{"properties":{"detail":{"items":{"$ref":"#/components/schemas/ValidationError"},'
    '"title":"Detail","type":"array"}},"title":"HTTPValidationError","type":"object"}',
    '"ValidationError":{"properties":{"loc":{"items":{"anyOf":[{"type":"string"},{"type":"integer"}]},'
    '"title":"Location","type":"array"},"msg":{"title":"Message","type":"string"},'
    '"type":{"title":"Error Type","type":"string"}},"required":["loc","msg","type"],"title":"ValidationError","type":"object"}',
    '"parameters":[{"in":"path","name":"prediction_id","required":true,"schema":{"title":"Prediction Id","type":"string"}}]',
    '"operationId":"predict_predictions_post"',
    '"description":"Run a single prediction on the model"',
]


def test_worked_example_is_byte_identical_to_golden():
    document = fixture_runner("many_inputs").openapi(VERSION)
    assert document == (GOLDEN / "many_inputs.openapi.json").read_text()


@pytest.mark.parametrize("fragment", WORKED_EXAMPLE_FRAGMENTS)
def test_worked_example_contains_reference_fragment(fragment):
    assert fragment in fixture_runner("many_inputs").openapi(VERSION)


def test_worked_example_key_order():
    document = json.loads(fixture_runner("many_inputs").openapi(VERSION))
    assert list(document) == ["components", "info", "openapi", "paths"]
    assert list(document["paths"]) == ["/", "/health-check", "/predictions", "/predictions/{prediction_id}/cancel"]
    assert list(document["components"]["schemas"]) == [
        "Input", "Output", "choices", "int_choices", "PredictionRequest", "PredictionResponse",
        "Status", "HTTPValidationError", "ValidationError",
    ]
    response = document["components"]["schemas"]["PredictionResponse"]["properties"]
    assert list(response) == [
        "input", "output", "id", "version", "created_at", "started_at", "completed_at",
        "status", "error", "logs", "metrics",
    ]
    assert "x-cog-streaming" not in document["paths"]["/predictions"]["post"]


@pytest.mark.parametrize("name", ["input_types", "output_model", "hello"])
def test_fixture_documents_match_golden(name):
    assert fixture_runner(name).openapi(VERSION) == (GOLDEN / f"{name}.openapi.json").read_text()


@pytest.mark.parametrize("name", ["train_class", "train_function"])
def test_train_documents_match_golden(name):
    project = FIXTURES / name
    predict_ref = "run.py:Runner" if (project / "run.py").exists() else None
    train_ref = "train.py:Trainer" if name == "train_class" else "train.py:train"
    document = openapi_for_project(VERSION, str(project), predict_ref, train_ref)
    assert document == (GOLDEN / f"{name}.openapi.json").read_text()


def test_merged_document_has_both_modes():
    project = FIXTURES / "train_class"
    document = json.loads(openapi_for_project(VERSION, str(project), "run.py:Runner", "train.py:Trainer"))
    assert list(document["paths"]) == [
        "/", "/health-check", "/predictions", "/predictions/{prediction_id}/cancel",
        "/trainings", "/trainings/{training_id}/cancel",
    ]
    train = document["paths"]["/trainings"]["post"]
    assert train["operationId"] == "train_trainings_post"
    assert train["summary"] == "Train"
    assert train["description"] == "Run a single training on the model"
    cancel = document["paths"]["/trainings/{training_id}/cancel"]["post"]
    assert cancel["operationId"] == "cancel_trainings__training_id__cancel_post"
    assert cancel["parameters"][0]["schema"]["title"] == "Training Id"
    schemas = document["components"]["schemas"]
    for name in ("TrainingInput", "TrainingOutput", "TrainingRequest", "TrainingResponse"):
        assert name in schemas
    assert schemas["TrainingOutput"] == {"format": "uri", "title": "TrainingOutput", "type": "string"}
    assert schemas["TrainingInput"]["properties"]["epochs"] == {"default": 1, "title": "Epochs", "type": "integer", "x-order": 0}


def schema_of(make_runner, source, name="Runner"):
    return json.loads(make_runner(source, name).openapi(VERSION))["components"]["schemas"]


def test_input_type_mapping(make_runner):
    schemas = schema_of(make_runner, '''
        from typing import Annotated, Any, Dict, List, Optional, TypedDict
        from cog import BaseRunner, Opaque, Path, Secret

        class Point(TypedDict):
            x: int

        class Runner(BaseRunner):
            def run(self, a: List[str], b: Dict[str, Any], c: Point, d: Annotated[dict, Opaque],
                    e: Annotated[list, Opaque], f: list[dict], g: int | None, h: "str | int",
                    i: Secret, j: Optional[list[Path]] = None, k: float = 1.5) -> str:
                return ""
    ''')
    props = schemas["Input"]["properties"]
    assert props["a"] == {"items": {"type": "string"}, "title": "A", "type": "array", "x-order": 0}
    assert props["b"] == {"title": "B", "type": "object", "x-order": 1}
    assert props["c"] == {"title": "C", "type": "object", "x-order": 2}
    assert props["d"] == {"title": "D", "type": "object", "x-order": 3}
    assert props["e"] == {"items": {"type": "object"}, "title": "E", "type": "array", "x-order": 4}
    assert props["f"] == {"items": {"type": "object"}, "title": "F", "type": "array", "x-order": 5}
    assert props["g"] == {"nullable": True, "title": "G", "type": "integer", "x-order": 6}
    assert props["h"] == {"anyOf": [{"type": "string"}, {"type": "integer"}], "title": "H", "x-order": 7}
    assert props["i"] == {"format": "password", "title": "I", "type": "string", "writeOnly": True,
                          "x-cog-secret": True, "x-order": 8}
    assert props["j"]["nullable"] is True and props["j"]["default"] is None
    assert props["k"]["default"] == 1.5
    assert schemas["Input"]["required"] == ["a", "b", "c", "d", "e", "f", "h", "i"]


def test_future_annotations_and_literal(make_runner):
    schemas = schema_of(make_runner, '''
        from __future__ import annotations
        from typing import Literal
        from cog import BaseRunner, Input

        class Runner(BaseRunner):
            def run(self, mode: Literal["fast", "slow"] = "fast", n: Literal[1, 2] = Input(description="n")) -> list[str]:
                return []
    ''')
    assert schemas["Input"]["properties"]["mode"] == {
        "allOf": [{"$ref": "#/components/schemas/mode"}], "default": "fast", "x-order": 0}
    assert schemas["mode"] == {"description": "An enumeration.", "enum": ["fast", "slow"], "title": "mode", "type": "string"}
    assert schemas["n"]["type"] == "integer"
    assert schemas["Input"]["required"] == ["n"]
    assert schemas["Output"] == {"items": {"type": "string"}, "title": "Output", "type": "array"}


def test_input_default_none_on_primitive_stays_required(make_runner):
    schemas = schema_of(make_runner, '''
        from cog import BaseRunner, Input, Secret

        class Runner(BaseRunner):
            def run(self, seed: int = Input(default=None), token: Secret = Input(default=None)) -> str:
                return ""
    ''')
    assert schemas["Input"]["required"] == ["seed"]
    assert "default" not in schemas["Input"]["properties"]["seed"]
    assert schemas["Input"]["properties"]["token"]["default"] is None
    assert schemas["Input"]["properties"]["token"]["nullable"] is True


def test_deprecated_and_accept(make_runner):
    props = schema_of(make_runner, '''
        from cog import BaseRunner, Input, Path

        class Runner(BaseRunner):
            def run(self, old: str = Input(default="x", deprecated=True),
                    audio: Path = Input(accept="audio/wav,audio/mp3")) -> str:
                return ""
    ''')["Input"]["properties"]
    assert props["old"]["deprecated"] is True
    assert props["audio"]["x-cog-accept"] == "audio/wav,audio/mp3"


OUTPUT_CASES = [
    ("int", {"type": "integer"}),
    ("bool", {"type": "boolean"}),
    ("Path", {"format": "uri", "type": "string"}),
    ("list", {"items": {"type": "object"}, "type": "array"}),
    ("dict", {"type": "object"}),
    ("dict[str, int]", {"additionalProperties": {"type": "integer"}, "type": "object"}),
    ("Iterator[Path]", {"items": {"format": "uri", "type": "string"}, "type": "array", "x-cog-array-type": "iterator"}),
    ("AsyncIterator[int]", {"items": {"type": "integer"}, "type": "array", "x-cog-array-type": "iterator"}),
    ("ConcatenateIterator[str]", {"items": {"type": "string"}, "type": "array",
                                  "x-cog-array-display": "concatenate", "x-cog-array-type": "iterator"}),
    ("AsyncConcatenateIterator[str]", {"items": {"type": "string"}, "type": "array",
                                       "x-cog-array-display": "concatenate", "x-cog-array-type": "iterator"}),
    ("Annotated[list[Any], Opaque]", {"items": {"type": "object"}, "type": "array"}),
    ("Out", {"properties": {"a": {"title": "A", "type": "string"}, "b": {"nullable": True, "title": "B", "type": "integer"},
                            "c": {"items": {"type": "number"}, "title": "C", "type": "array"}},
             "required": ["a"], "type": "object"}),
    ("TD", {"properties": {"x": {"title": "X", "type": "integer"}, "y": {"title": "Y", "type": "string"}},
            "required": ["x"], "type": "object"}),
]


@pytest.mark.parametrize("annotation,expected", OUTPUT_CASES)
def test_output_types(make_runner, annotation, expected):
    if annotation == "TD" and sys.version_info < (3, 11):
        pytest.skip("typing.NotRequired needs Python 3.11")
    schemas = schema_of(make_runner, f'''
        import sys
        from typing import Annotated, Any, AsyncIterator, Iterator, Optional, TypedDict
        from cog import AsyncConcatenateIterator, BaseModel, BaseRunner, ConcatenateIterator, Opaque, Path

        class Out(BaseModel):
            a: str
            b: Optional[int] = None
            c: list[float] = None

        if sys.version_info >= (3, 11):
            from typing import NotRequired

            class TD(TypedDict):
                x: int
                y: NotRequired[str]

        class Runner(BaseRunner):
            def run(self) -> {annotation}:
                return None
    ''')
    assert schemas["Output"] == {**expected, "title": "Output"}


def test_streaming_marks_predictions_operation(make_runner):
    runner = make_runner('''
        import cog
        from typing import Iterator

        class Runner(cog.BaseRunner):
            @cog.streaming()
            def run(self) -> Iterator[str]:
                yield "a"
    ''')
    document = json.loads(runner.openapi(VERSION))
    assert document["paths"]["/predictions"]["post"]["x-cog-streaming"] is True
    assert runner.streaming is True


ERROR_CASES = [
    ("x: str", "-> Optional[str]", "unsupported output type: Optional is not allowed as a return type"),
    ("x: str", "-> str | int", "unsupported output type"),
    ("x: str", "-> ConcatenateIterator[int]", "ConcatenateIterator element type must be str, got int"),
    ("x: str", "", "missing return type annotation on Runner.run"),
    ("x", "-> str", "missing type annotation for parameter 'x' on Runner.run"),
    ("x: set", "-> str", "unsupported type: set"),
    ("x: list[list[str]]", "-> str", "unsupported type"),
    ("x: Path | str", "-> str", "unsupported type"),
    ("x: int = Input(default=1, ge=2)", "-> str", "less than the minimum 2"),
    ("x: int = Input(default=9, le=2)", "-> str", "greater than the maximum 2"),
    ("x: str = Input(default='z', choices=['a', 'b'])", "-> str", "is not one of the choices"),
    ("x: str = Input(default='abc', max_length=2)", "-> str", "longer than max_length 2"),
    ("x: str = Input(default='abc', regex='^[0-9]+$')", "-> str", "does not match regex"),
    ("x: str = Input(accept='image/*')", "-> str", "accept is only valid on Path or File inputs"),
]


@pytest.mark.parametrize("params,returns,message", ERROR_CASES)
def test_schema_errors(make_runner, params, returns, message):
    with pytest.raises(_schema.SchemaError, match=re.escape(message)):
        make_runner(f'''
            from typing import Optional
            from cog import BaseRunner, ConcatenateIterator, Input, Path

            class Runner(BaseRunner):
                def run(self, {params}) {returns}:
                    return ""
        ''')


def test_default_factory_is_a_type_error():
    from cog import Input

    with pytest.raises(TypeError, match="default_factory is not supported in Input"):
        Input(default_factory=list)


def test_pydantic_output_if_available(make_runner, tmp_path):
    pydantic = pytest.importorskip("pydantic")
    runner = make_runner(f'''
        from typing import Optional
        import pydantic
        from cog import BaseRunner, Path

        class Out(pydantic.BaseModel):
            name: str
            file: Path
            size: Optional[int] = None

        class Runner(BaseRunner):
            def run(self) -> Out:
                path = Path({str(tmp_path / "o.txt")!r})
                path.write_text("hi")
                return Out(name="x", file=path)
    ''')
    schemas = json.loads(runner.openapi(VERSION))["components"]["schemas"]
    assert schemas["Output"]["required"] == ["name", "file"]
    assert schemas["Output"]["properties"]["size"] == {"nullable": True, "title": "Size", "type": "integer"}
    output, _ = runner.predict({})
    assert output == {"name": "x", "file": "data:text/plain;base64,aGk=", "size": None}
    assert pydantic


def test_go_compatible_serialisation():
    assert _schema.dumps({"b": 1.0, "a": "<&>", "c": [1e-7, 1e21, 0.5]}) == '{"a":"\\u003c\\u0026\\u003e","b":1,"c":[1e-7,1e+21,0.5]}'
    assert _schema.dumps(_schema.Ordered(z=1, a=2)) == '{"z":1,"a":2}'
    assert _schema.dumps({"é": "ü\u2028"}) == '{"é":"ü\\u2028"}'


def test_title_case():
    assert _schema.title("no_default") == "No Default"
    assert _schema.title("x") == "X"


def test_openapi_schema_command(capsys):
    from cog.command import openapi_schema

    project = str(FIXTURES / "many_inputs")
    assert openapi_schema.main(["--project-dir", project, "--predict", "predict.py:Predictor", "--version", VERSION]) == 0
    assert capsys.readouterr().out == (GOLDEN / "many_inputs.openapi.json").read_text() + "\n"
    assert openapi_schema.main(["--project-dir", project, "--predict", "predict.py:Nope"]) == 1
    assert "cog: error: openapi_schema: predictor not found: Nope" in capsys.readouterr().err
