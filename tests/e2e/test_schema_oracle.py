"""Our OpenAPI generator (runtime/python/cog/_schema.py) checked against one that did not come from
us: Cog 0.9.26 from PyPI, whose SDK built the schema at run time through pydantic 1 and FastAPI. The
coglet differential test cannot do this, since coglet serves the schema our generator wrote.

Both run on the same projects: tests/fixtures/oracle/ (every input and output form 0.9 knows) and
the server fixtures that use nothing newer, with BaseRunner/run() spelled BasePredictor/predict()
for 0.9. What is compared is what the model decides (components Input, Output, the choice enums,
TrainingInput, TrainingOutput), not the HTTP envelope, which Cog reworked since (cog-reference.md,
"Classic (FastAPI) schema differences"). Cog's own changes since 0.9.26, applied to the oracle's
schema before comparing:

| input or output                            | Cog 0.9.26 (oracle)              | Cog now (ours)                       |
|--------------------------------------------|----------------------------------|--------------------------------------|
| `x: int = None`, `Input(default=None)` on str/int/float/bool | optional                 | required (cog-reference.md §5.4)     |
| `default=None` on list/Path/File/Secret    | optional, no default             | `"default": null`, `"nullable": true`|
| `Secret`                                   | no `writeOnly`                   | `"writeOnly": true`                  |
| `Optional[T]` field of an output object    | not required                     | not required, `"nullable": true`     |
| field default in an output object          | `"default": ...`                 | not emitted (open: unverified against Cog now) |
| `Optional[str] = None`, float choices, async, `accept`, `current_scope`, function runners | refused by 0.9 | supported: not compared |

Needs PyPI once (the venv is cached under $XDG_CACHE_HOME/cog-test); skips when it cannot be made."""
import fcntl
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import SOURCE_DIR

ORACLE_VERSION = "0.9.26"
CACHE_DIR = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "cog-test"
PYTHON = "/usr/bin/python3"
ORACLE_FIXTURES = SOURCE_DIR / "tests" / "fixtures" / "oracle"
PREDICTORS = SOURCE_DIR / "tests" / "fixtures" / "predictors"
# Server fixtures that use nothing 0.9 lacks (the others need async, current_scope, accept, ...).
CLASSIC_PREDICTORS = ["hello", "healthcheck_false", "legacy_predictor", "logs", "many_inputs", "os_exit",
                      "output_dict", "output_iterator", "output_model", "output_path", "output_paths", "raises",
                      "segfault", "setup_fails", "setup_weights", "sleep", "slow_setup", "sys_exit"]
MODEL_COMPONENTS_SKIPPED = {"PredictionRequest", "PredictionResponse", "Status", "WebhookEvent", "HTTPValidationError",
                            "ValidationError", "TrainingRequest", "TrainingResponse"}


@pytest.fixture(scope="module")
def oracle_python():
    venv = CACHE_DIR / f"cog-{ORACLE_VERSION}-venv"
    stamp = venv / "ok"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"cog-{ORACLE_VERSION}-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True)
            install = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                                      "--timeout", "20", "--retries", "1", f"cog=={ORACLE_VERSION}"],
                                     capture_output=True, text=True)
            if install.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pytest.skip(f"Cog {ORACLE_VERSION} could not be installed from PyPI: {install.stderr[-500:]}")
            stamp.write_text(ORACLE_VERSION + "\n")
    return venv / "bin" / "python"


def classic_copy(source, target):
    """The project as Cog 0.9 spells it: BasePredictor, predict(), `predict:` in cog.yaml."""
    shutil.copytree(source, target)
    for file in target.glob("*.py"):
        file.write_text(file.read_text().replace("BaseRunner", "BasePredictor").replace("def run(", "def predict("))
    cog_yaml = target / "cog.yaml"
    cog_yaml.write_text(re.sub(r"^run:", "predict:", cog_yaml.read_text(), flags=re.M))
    return target


def first_json(text):
    return json.JSONDecoder().raw_decode(text)[0]


def oracle_schema(python, project):
    result = subprocess.run([str(python), "-m", "cog.command.openapi_schema"], cwd=project, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return first_json(result.stdout)


def our_schema(project):
    cog_yaml = (project / "cog.yaml").read_text()
    args = [PYTHON, "-m", "cog.command.openapi_schema", "--static", "--project-dir", str(project),
            "--version", ORACLE_VERSION]
    for key, flag in (("predict", "--ref"), ("train", "--train-ref")):
        if match := re.search(rf'^{key}:\s*"?([^"\n]+)', cog_yaml, re.M):
            args += [flag, match.group(1)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
    env["PYTHONPATH"] = str(SOURCE_DIR / "runtime" / "python")
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    # The schema is the last line; the line before it is the runner's modes.
    return json.loads(result.stdout.strip().splitlines()[-1])


def model_components(schema):
    components = schema["components"]["schemas"]
    return {name: value for name, value in components.items() if name not in MODEL_COMPONENTS_SKIPPED}


def as_cog_now(components):
    """The oracle's components with the table's changes applied."""
    for name in ("Input", "TrainingInput"):
        component = components.get(name)
        if component is None:
            continue
        required = component.get("required", [])
        for prop_name, prop in component["properties"].items():
            if prop_name in required or "default" in prop:
                continue
            primitive = "allOf" in prop or (prop.get("type") in ("string", "integer", "number", "boolean")
                                            and "format" not in prop)
            if primitive:
                required.append(prop_name)
                component["required"] = required
            else:
                prop.update({"default": None, "nullable": True})
        for prop in component["properties"].values():
            if prop.get("format") == "password":
                prop["writeOnly"] = True
    for name in ("Output", "TrainingOutput"):
        component = components.get(name)
        if component is None or component.get("type") != "object":
            continue
        for prop_name, prop in component.get("properties", {}).items():
            if prop_name not in component.get("required", []):
                if "default" in prop:
                    del prop["default"]
                else:
                    prop["nullable"] = True
    return components


def normalized(components):
    for component in components.values():
        if "required" in component:
            component["required"] = sorted(component["required"])
    return components


PROJECTS = [pytest.param(ORACLE_FIXTURES / name, id=f"oracle/{name}") for name in sorted(os.listdir(ORACLE_FIXTURES))]
PROJECTS += [pytest.param(PREDICTORS / name, id=name) for name in CLASSIC_PREDICTORS]


@pytest.mark.parametrize("fixture", PROJECTS)
def test_model_schema_matches_cog_0_9(oracle_python, fixture, tmp_path):
    project = classic_copy(fixture, tmp_path / fixture.name)
    expected = normalized(as_cog_now(model_components(oracle_schema(oracle_python, project))))
    actual = normalized(model_components(our_schema(project)))
    assert actual == expected, json.dumps({"ours": actual, "oracle, as Cog now": expected}, indent=1, sort_keys=True)
