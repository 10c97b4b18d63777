"""The static OpenAPI schema (``openapi_schema --static``, what ``cog build`` runs on the host).

Every fixture project's static document must equal, byte for byte, the document of the same
project imported for real; static errors must carry Cog's messages with ``file:line``. The
runtime side runs in a subprocess (fixture modules share names) with fake heavy packages from
``tests/fixtures/static/_fakes`` on its path; the static side never sees them.
"""
import ast
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COG_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
SDK_DIR = SOURCE_DIR / "runtime" / "python"
PREDICTORS = SOURCE_DIR / "tests" / "fixtures" / "predictors"
STATIC = SOURCE_DIR / "tests" / "fixtures" / "static"
ERRORS = STATIC / "errors"
FAKES = STATIC / "_fakes"
VERSION = "0.22.0"

if str(SDK_DIR) not in sys.path:
    sys.path.insert(0, str(SDK_DIR))

from cog.command import _stub, openapi_schema  # noqa: E402
from cog.command._static import StaticError  # noqa: E402


def _refs(project: pathlib.Path):
    """(predict ref, train ref) from the project's cog.yaml."""
    refs = {}
    for line in (project / "cog.yaml").read_text().splitlines():
        match = re.match(r'^(run|predict|train):\s*"?([^"\s]+)"?\s*$', line)
        if match:
            refs["train" if match.group(1) == "train" else "predict"] = match.group(2)
    return refs.get("predict"), refs.get("train")


def _projects():
    for root in (PREDICTORS, STATIC):
        for project in sorted(root.iterdir()):
            if (project / "cog.yaml").is_file():
                yield pytest.param(project, id=f"{root.name}/{project.name}")


def _command(project, predict_ref, train_ref, *extra):
    command = [sys.executable, "-m", "cog.command.openapi_schema", "--project-dir", str(project), "--version", VERSION]
    if predict_ref:
        command += ["--ref", predict_ref]
    if train_ref:
        command += ["--train-ref", train_ref]
    return command + list(extra)


def _run(command, fakes=False, env=None, cwd=None):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SDK_DIR)] + ([str(FAKES)] if fakes else [])))
    environment.update(env or {})
    return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=cwd or "/", timeout=60)


def static_document(project: pathlib.Path) -> str:
    predict_ref, train_ref = _refs(project)
    document, _ = openapi_schema.generate(str(project), predict_ref, train_ref, VERSION, static=True)
    return document


def runtime_document(project: pathlib.Path) -> str:
    predict_ref, train_ref = _refs(project)
    result = _run(_command(project, predict_ref, train_ref), fakes=True, env={"COG_STATIC_FIXTURE_RUNTIME": "1"})
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\n")


# Projects whose real import needs a package the host lacks: compared with a twin instead.
TWINS = {"pydantic_output": "pydantic_output_twin"}


@pytest.mark.parametrize("project", _projects())
def test_static_document_equals_runtime_document(project):
    static = static_document(project)
    expected = runtime_document(STATIC / TWINS[project.name] if project.name in TWINS else project)
    assert any(name.endswith("Input") for name in json.loads(static)["components"]["schemas"])
    assert static == expected


@pytest.mark.parametrize("golden", sorted((pathlib.Path(__file__).parent / "golden").glob("*.openapi.json")), ids=lambda p: p.name)
def test_static_document_matches_the_sdk_golden_files(golden):
    project = PREDICTORS / golden.name.split(".")[0]
    assert static_document(project) == golden.read_text()


def test_static_analysis_leaves_no_modules_behind():
    before = set(sys.modules)
    static_document(STATIC / "local_imports")
    static_document(STATIC / "subdir_runner")
    assert set(sys.modules) - before == set()


def test_no_model_code_runs(tmp_path):
    marker = tmp_path / "ran"
    project = STATIC / "heavy_imports"
    result = _run(_command(project, "predict.py:Predictor", None, "--static"), env={"COG_STATIC_FIXTURE_MARKER": str(marker)})
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert "loading" not in result.stderr
    # The same project imported for real does run it (so the check above can fail).
    result = _run(
        _command(project, "predict.py:Predictor", None),
        fakes=True,
        env={"COG_STATIC_FIXTURE_RUNTIME": "1", "COG_STATIC_FIXTURE_MARKER": str(marker)},
    )
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "ran"


@pytest.mark.parametrize(
    "project, metadata",
    [
        (STATIC / "async_streaming", {"is_async": True, "max_concurrency": 4, "streaming": True}),
        (STATIC / "heavy_imports", {"is_async": False, "max_concurrency": 1, "streaming": False}),
        (STATIC / "typed_outputs", {"is_async": True, "max_concurrency": 1, "streaming": False}),
        (PREDICTORS / "async_concurrent", {"is_async": True, "max_concurrency": 8, "streaming": False}),
        (PREDICTORS / "output_concatenate", {"is_async": False, "max_concurrency": 1, "streaming": True}),
    ],
    ids=lambda value: value.name if isinstance(value, pathlib.Path) else "",
)
def test_metadata(project, metadata, tmp_path):
    predict_ref, train_ref = _refs(project)
    metadata_file = tmp_path / "metadata.json"
    result = _run(_command(project, predict_ref, train_ref, "--static", "--metadata", str(metadata_file)))
    assert result.returncode == 0, result.stderr
    assert json.loads(metadata_file.read_text()) == metadata
    assert result.stdout == static_document(project) + "\n"
    # The runtime path reports the same.
    result = _run(_command(project, predict_ref, train_ref), fakes=True, env={"COG_STATIC_FIXTURE_RUNTIME": "1"})
    assert json.loads(result.stderr.strip().splitlines()[-1]) == metadata


ERROR_CASES = [
    ("syntax_error.py:Runner", "syntax_error.py:4: failed to parse Python source: expected ':'"),
    ("not_found.py:Nope", "not_found.py: predictor not found: Nope"),
    ("no_method.py:Runner", "no_method.py: run or predict method not found: Runner"),
    ("both_methods.py:Runner", "both_methods.py: Runner must define either run() or predict(), not both"),
    ("missing_return.py:Runner", "missing_return.py:5: missing return type annotation on Runner.run"),
    ("missing_annotation.py:Runner", "missing_annotation.py:8: missing type annotation for parameter 'count' on Runner.run"),
    ("unsupported_type.py:Runner", "unsupported_type.py:5: unsupported type: tuple on parameter 'pair' of Runner.run"),
    (
        "union_with_path.py:Runner",
        "union_with_path.py:7: unsupported type: Union[str, cog.types.Path] on parameter 'source' of Runner.run"
        " — unions may only combine JSON types (str, int, float, bool, dict, list, None)",
    ),
    (
        "default_factory.py:Runner",
        "default_factory.py:7: default_factory is not supported in Input() — use a literal default value instead"
        " (parameter 'tags')",
    ),
    ("optional_return.py:Runner", "optional_return.py:7: unsupported output type: Optional is not allowed as a return type"),
    ("concatenate_int.py:Runner", "concatenate_int.py:5: ConcatenateIterator element type must be str, got int"),
    (
        "choices_call.py:Runner",
        "choices_call.py:11: choices for parameter 'model' cannot be statically resolved: available_models()",
    ),
    (
        "default_env.py:Runner",
        "default_env.py:11: default value for parameter 'model' cannot be statically resolved:"
        ' os.environ.get("MODEL", "base")',
    ),
    (
        "default_external.py:Runner",
        "default_external.py:9: default value for parameter 'dtype' cannot be statically resolved: torch.float16",
    ),
    (
        "external_type.py:Runner",
        "external_type.py:9: cannot resolve type 'Tensor' (imported from 'torch') - external types cannot be"
        " statically analyzed. Use a builtin, typing or cog type, or a BaseModel defined in the project",
    ),
    (
        "package_export.py:Runner",
        "package_export.py:7: cannot resolve type 'Result' (imported from 'pkg') - external types cannot be"
        " statically analyzed. Use a builtin, typing or cog type, or a BaseModel defined in the project",
    ),
    (
        "external_output_field.py:Runner",
        "external_output_field.py:12: cannot resolve type 'ndarray' (imported from 'numpy') - external types cannot"
        " be statically analyzed. Use a builtin, typing or cog type, or a BaseModel defined in the project",
    ),
    (
        "external_output_base.py:Runner",
        "external_output_base.py:11: cannot resolve type 'ModelOutput' (imported from 'transformers.utils') - external"
        " types cannot be statically analyzed. Use a builtin, typing or cog type, or a BaseModel defined in the project",
    ),
    (
        "undefined_type.py:Runner",
        "undefined_type.py:13: unsupported type: Prompt ('Prompt' is not defined by a statement the build can analyse)",
    ),
    ("accept_on_str.py:Runner", "accept_on_str.py:7: accept is only valid on Path or File inputs (parameter 'name')"),
    (
        "default_below_minimum.py:Runner",
        "default_below_minimum.py:7: invalid default value 1 for parameter 'steps': it is less than the minimum 2 (ge)",
    ),
    (
        "default_not_a_choice.py:Runner",
        'default_not_a_choice.py:9: invalid default value "medium" for parameter \'size\': it is not one of the choices'
        ' ["small","large"]',
    ),
    (
        "concurrent_sync.py:Runner",
        "concurrent_sync.py:5: @cog.concurrent(max=4) requires an async function; Runner.run is not async",
    ),
    ("concurrent_not_literal.py:Runner", "concurrent_not_literal.py:7: concurrent(max=...) must be an integer literal"),
    ("concurrent_zero.py:Runner", "concurrent_zero.py:5: concurrent(max=...) must be at least 1, got 0"),
    ("predict", "invalid predict reference 'predict' — expected format: file.py:ClassName or file.py:function_name"),
    ("missing.py:Runner", f"predictor not found: missing.py does not exist in {ERRORS}"),
]


@pytest.mark.parametrize("ref, message", ERROR_CASES, ids=[ref.split(":")[0] for ref, _ in ERROR_CASES])
def test_static_error(ref, message):
    with pytest.raises(StaticError) as caught:
        openapi_schema.generate(str(ERRORS), ref, None, VERSION, static=True)
    assert str(caught.value) == message


def test_train_error():
    with pytest.raises(StaticError) as caught:
        openapi_schema.generate(str(ERRORS), None, "train_missing.py:Trainer", VERSION, static=True)
    assert str(caught.value) == "train_missing.py: train method not found on Trainer"


# Errors that do not depend on static analysis: importing the file reports the same message.
SHARED_MESSAGES = [
    "missing_return.py:Runner",
    "missing_annotation.py:Runner",
    "unsupported_type.py:Runner",
    "optional_return.py:Runner",
    "concatenate_int.py:Runner",
    "accept_on_str.py:Runner",
    "default_below_minimum.py:Runner",
    "default_not_a_choice.py:Runner",
    "both_methods.py:Runner",
    "no_method.py:Runner",
    "not_found.py:Nope",
]


def test_runtime_reports_the_same_messages(monkeypatch):
    # In process (these files import nothing but cog): sys.path, sys.modules and cwd are restored.
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(ERRORS)
    modules = set(sys.modules)
    expected = {ref: message for ref, message in ERROR_CASES}
    try:
        for ref in SHARED_MESSAGES:
            with pytest.raises(StaticError) as caught:
                openapi_schema.generate(str(ERRORS), ref, None, VERSION, static=False)
            assert caught.value.message == expected[ref].split(": ", 1)[1], ref
    finally:
        for name in set(sys.modules) - modules:
            del sys.modules[name]
    result = _run(_command(ERRORS, "missing_return.py:Runner", None))
    assert result.returncode == 1
    assert result.stderr == "cog: error: openapi_schema: missing return type annotation on Runner.run\n"


def test_command_line_error_format():
    result = _run(_command(ERRORS, "missing_return.py:Runner", None, "--static"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "missing_return.py:5: missing return type annotation on Runner.run\n"


def test_command_line_needs_a_reference():
    result = _run([sys.executable, "-m", "cog.command.openapi_schema", "--static"], env={"COG_PREDICT_TYPE_STUB": ""})
    assert result.returncode == 1
    assert "no runner reference" in result.stderr


def test_reference_without_a_name_prefers_runner_then_predictor():
    document, _ = openapi_schema.generate(str(STATIC / "heavy_imports"), "predict.py", None, VERSION, static=True)
    assert document == static_document(STATIC / "heavy_imports")


def test_predict_and_train_documents_merge():
    project = STATIC / "typed_outputs"
    document = json.loads(static_document(project))
    assert list(document["paths"]) == [
        "/",
        "/health-check",
        "/predictions",
        "/predictions/{prediction_id}/cancel",
        "/trainings",
        "/trainings/{training_id}/cancel",
    ]
    assert document["components"]["schemas"]["TrainingInput"]["properties"]["dataset"]["x-cog-accept"] == ".zip,.tar"


# ---------------------------------------------------------------------------------------------
# The stub itself


def _stub_source(source: str) -> str:
    return ast.unparse(_stub.build_stub(ast.parse(source), source).tree)


def test_stub_drops_code_and_keeps_signatures():
    stub = _stub_source(
        "import torch\n"
        "print('side effect')\n"
        "MODEL = torch.load('x')\n"
        "SIZES = ['a', 'b']\n"
        "class Runner:\n"
        "    @torch.no_grad()\n"
        "    def run(self, size: str = Input(default=SIZES[0], choices=SIZES)) -> str:\n"
        "        return open('/etc/passwd').read()\n"
        "    def stream(self) -> Iterator[str]:\n"
        "        yield 'x'\n"
    )
    assert "print" not in stub and "passwd" not in stub and "no_grad" not in stub
    assert "torch = __cog_module__('torch', 0, 1, True)" in stub
    assert "MODEL = __cog_unresolved__(\"torch.load('x')\", 3, '')" in stub
    assert "SIZES = ['a', 'b']" in stub
    assert "def run(self, size: str=Input(default=SIZES[0], choices=SIZES)) -> str:\n        ..." in stub
    assert "def stream(self) -> Iterator[str]:\n        if False:\n            yield" in stub


def test_stub_records_lines_and_unbound_names():
    source = "class Runner:\n    def run(self,\n            x: Prompt = DEFAULT) -> str:\n        ...\n"
    stub = _stub.build_stub(ast.parse(source), source)
    assert stub.functions["Runner.run"].line == 2
    assert stub.functions["Runner.run"].params["x"] == _stub.Param(3, "DEFAULT")
    assert stub.unbound == {"Prompt", "DEFAULT", "str"}
