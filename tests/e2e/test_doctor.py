"""`cog doctor [--fix]` on real project directories: each check's finding and exit code, and the
rewrites --fix makes (then the fixed project is clean and runs)."""
import os
import shutil
import subprocess

import pytest

from cog_cli import run_cog, tag_fixture

# The environment checks depend on this machine; the project checks are what these tests are about.
QUIET_HOST = {"COG_SKIP_DOCKER_CHECK": "1", "COG_SKIP_GPU_CHECK": "1"}

CLEAN_RUN_PY = '''from cog import BaseRunner, Input


class Runner(BaseRunner):
    def run(self, name: str = Input(description="Who to greet", default="world")) -> str:
        return "hello " + name
'''

LEGACY_PREDICT_PY = '''from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.prefix = "hello "

    def predict(self, name: str = Input(description="Who to greet", default="world")) -> str:
        return self.prefix + name


if __name__ == "__main__":
    print(Predictor().predict("x"))
'''


def doctor(cog_bin, project, *args, env=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("COG_SKIP_DOCKER_CHECK", "COG_SKIP_GPU_CHECK")}
    environment.update(QUIET_HOST if env is None else env)
    return run_cog(cog_bin, "doctor", *args, cwd=project, check=False, base_env=environment, timeout=60)


def write(project, files):
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return project


def clean_project(tmp_path):
    return write(tmp_path, {"cog.yaml": 'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n',
                            "run.py": CLEAN_RUN_PY})


def legacy_project(tmp_path):
    return write(tmp_path, {"cog.yaml": 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
                            "predict.py": LEGACY_PREDICT_PY})


def test_clean_project_has_no_issues(cog_bin, tmp_path):
    result = doctor(cog_bin, clean_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "experimental" in result.stderr
    assert "no issues found" in result.stderr
    assert result.stdout == ""


def test_outside_a_project_is_an_error(cog_bin, tmp_path):
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 1
    assert "cog.yaml not found" in result.stderr


def test_yaml_syntax_error(cog_bin, tmp_path):
    write(tmp_path, {"cog.yaml": "build: [\n", "run.py": CLEAN_RUN_PY})
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 1
    assert "[config-parse]" in result.stderr
    assert "cog.yaml:" in result.stderr


def test_schema_error_uses_the_loaders_wording(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  gpux: true\nrun: "run.py:Runner"\n')
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 1
    assert 'cog.yaml:3:3: error: unknown field "gpux" under build [config-schema]' in result.stderr
    assert 'did you mean "gpu"?' in result.stderr


def test_missing_runner_file_and_class(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "model.py:Runner"\n')
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 1
    assert "model.py does not exist" in result.stderr and "[config-predict-ref]" in result.stderr
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "run.py:Model"\n')
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 1
    assert 'run.py does not define "Model"' in result.stderr


def test_legacy_names_are_warnings_only(cog_bin, tmp_path):
    result = doctor(cog_bin, legacy_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "[predict-to-run-migration]" in result.stderr
    assert 'cog.yaml:3: warning: deprecated field "predict": use "run" instead' in result.stderr
    assert "predict.py:4: warning: class Predictor" in result.stderr
    assert "predict.py:8: warning: predict()" in result.stderr
    assert "Fixable: `cog doctor --fix`" in result.stderr


def test_fix_migrates_predict_to_run(cog_bin, tmp_path):
    project = legacy_project(tmp_path)
    result = doctor(cog_bin, project, "--fix")
    assert result.returncode == 0, result.stderr
    assert "Fixed: Deprecated predict interface names" in result.stderr
    assert not (project / "predict.py").exists()
    run_py = (project / "run.py").read_text()
    assert "class Runner(BaseRunner):" in run_py
    assert "from cog import BaseRunner, Input" in run_py
    assert "    def run(self, name: str" in run_py
    assert "print(Runner().predict(\"x\"))" in run_py  # calls are the user's; only the def is renamed
    assert (project / "cog.yaml").read_text() == 'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n'
    again = doctor(cog_bin, project)
    assert again.returncode == 0, again.stderr
    assert "no issues found" in again.stderr
    # The migrated project runs: the runtime on the host loads run.py:Runner.
    ran = run_cog(cog_bin, "run", "--local", "-i", "name=doctor", cwd=project, check=False, timeout=180)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "hello doctor\n"


tag = tag_fixture("cog-e2e-doctor")


@pytest.mark.skipif(os.geteuid() != 0, reason="building and running images needs root")
def test_fixed_project_builds_and_runs(cog_bin, tmp_path, tag):
    project = legacy_project(tmp_path)
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\n  python_packages: []\npredict: "predict.py:Predictor"\n')
    fixed = doctor(cog_bin, project, "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert "no issues found" in doctor(cog_bin, project).stderr
    run_cog(cog_bin, "build", "-t", tag, cwd=project)
    ran = run_cog(cog_bin, "run", tag, "-i", "name=image", cwd=project, timeout=300)
    assert ran.stdout == "hello image\n"


def test_fix_refuses_when_run_py_exists(cog_bin, tmp_path):
    project = legacy_project(tmp_path)
    (project / "run.py").write_text("# mine\n")
    before = {p.name: p.read_text() for p in project.iterdir()}
    result = doctor(cog_bin, project, "--fix")
    assert result.returncode == 1
    assert "run.py already exists" in result.stderr
    assert {p.name: p.read_text() for p in project.iterdir()} == before


def test_deprecated_fields_and_fix(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"  # keep me\n  python_packages:\n    - "six==1.16.0"\n'
        '  pre_install:\n    - echo hi\nconcurrency:\n  max: 1\nrun: "run.py:Runner"\n')
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'cog.yaml:3: warning: deprecated field "build.python_packages"' in result.stderr
    assert 'cog.yaml:5: warning: deprecated field "build.pre_install"' in result.stderr
    assert 'cog.yaml:8: warning: deprecated field "concurrency.max"' in result.stderr
    assert "@cog.concurrent(max=1)" in result.stderr
    fixed = doctor(cog_bin, tmp_path, "--fix")
    assert "Fixed: Deprecated cog.yaml fields" in fixed.stderr
    assert (tmp_path / "requirements.txt").read_text() == "six==1.16.0\n"
    assert (tmp_path / "cog.yaml").read_text() == (
        'build:\n  python_version: "3.11"  # keep me\n  python_requirements: requirements.txt\n'
        '  run:\n    - echo hi\nconcurrency:\n  max: 1\nrun: "run.py:Runner"\n')
    # concurrency.max needs the user: it stays, with its remediation.
    assert "Remediation: remove concurrency.max" in fixed.stderr


def check_python_fix(cog_bin, project, source, warnings, fixed_check, kept, gone):
    """run.py = source: doctor warns with each of `warnings` (exit 0), --fix reports `Fixed: <fixed_check>`,
    the rewritten run.py holds `kept` and none of `gone`, and doctor then finds nothing."""
    clean_project(project)
    (project / "run.py").write_text(source)
    result = doctor(cog_bin, project)
    assert result.returncode == 0, result.stderr
    for warning in warnings:
        assert warning in result.stderr
    fixed = doctor(cog_bin, project, "--fix")
    assert f"Fixed: {fixed_check}" in fixed.stderr
    text = (project / "run.py").read_text()
    assert kept in text
    assert not any(word in text for word in gone), text
    assert "no issues found" in doctor(cog_bin, project).stderr


def test_pydantic_basemodel_fix(cog_bin, tmp_path):
    check_python_fix(
        cog_bin, tmp_path,
        "from cog import BaseRunner, Path\nfrom pydantic import BaseModel, ConfigDict\n\n\n"
        "class Output(BaseModel):\n    model_config = ConfigDict(arbitrary_types_allowed=True)\n"
        "    file: Path\n\n\nclass Runner(BaseRunner):\n    def run(self) -> Output:\n"
        "        return Output(file=Path(__file__))\n",
        warnings=["run.py:5: warning: class Output subclasses pydantic's BaseModel"],
        fixed_check="pydantic BaseModel with arbitrary_types_allowed",
        kept="from cog import BaseModel\n", gone=["pydantic", "arbitrary_types_allowed"])


def test_deprecated_import_fix(cog_bin, tmp_path):
    check_python_fix(
        cog_bin, tmp_path,
        "import warnings\n\nfrom cog import BaseRunner\nfrom cog.types import ExperimentalFeatureWarning, Path\n\n"
        'warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)\n\n\n'
        "class Runner(BaseRunner):\n    def run(self) -> Path:\n        return Path(__file__)\n",
        warnings=["run.py:4: warning: ExperimentalFeatureWarning is deprecated",
                  "run.py:4: warning: cog.types is not part of Cog's public SDK"],
        fixed_check="Deprecated cog imports",
        kept="from cog import Path\n", gone=["ExperimentalFeatureWarning", "cog.types"])


def test_missing_annotations_are_errors(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n    def run(self, name,\n"
        "            count: int = 1):\n        return name * count\n")
    result = doctor(cog_bin, tmp_path)
    assert result.returncode == 1
    assert 'run.py:5: error: parameter "name" of Runner.run() has no type annotation' in result.stderr
    assert "run.py:5: error: Runner.run() has no return type annotation" in result.stderr
    assert "count" not in result.stderr.split("[python-missing-type-annotations]")[0].split("\n")[-1]
    # --fix cannot guess types: the errors stay, with their remediation.
    fixed = doctor(cog_bin, tmp_path, "--fix")
    assert fixed.returncode == 1
    assert "Remediation: annotate it" in fixed.stderr


def test_python_version_nothing_can_build(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.10"\nrun: "run.py:Runner"\n')
    result = doctor(cog_bin, tmp_path, env={**QUIET_HOST, "COG_PYTHON_STANDALONE": ""})
    assert result.returncode == 1
    assert "cog.yaml:2: error: no Python 3.10 to build with" in result.stderr
    assert "[env-python-version]" in result.stderr


def test_environment_checks_can_be_skipped(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  gpu: true\nrun: "run.py:Runner"\n')
    result = doctor(cog_bin, tmp_path)
    assert "skipped env-docker: COG_SKIP_DOCKER_CHECK is set" in result.stderr
    assert "skipped env-gpu-compat: COG_SKIP_GPU_CHECK is set" in result.stderr
    assert result.returncode == 0


def test_gpu_check_on_this_machine(cog_bin, tmp_path):
    clean_project(tmp_path)
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  gpu: true\nrun: "run.py:Runner"\n')
    result = doctor(cog_bin, tmp_path, env={"COG_SKIP_DOCKER_CHECK": "1"})
    has_driver = any(os.path.exists(p) for p in ("/dev/nvidiactl", "/proc/driver/nvidia/version"))
    if has_driver:
        pytest.skip("this machine has an NVIDIA driver: the unit tests cover the comparison with a faked one")
    assert result.returncode == 0, result.stderr
    assert "cog.yaml:3: warning: gpu: true, but this machine has no NVIDIA driver" in result.stderr
    assert "CUDA 11.8" in result.stderr


def test_other_config_file_name(cog_bin, tmp_path):
    write(tmp_path, {"model.yaml": 'build:\n  python_version: "3.11"\npredict: "run.py:Runner"\n',
                     "run.py": CLEAN_RUN_PY})
    result = doctor(cog_bin, tmp_path, "-f", "model.yaml", "--fix")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "model.yaml").read_text() == 'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n'
    assert not (tmp_path / "cog.yaml").exists()


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to make a stand-in libcuda")
def test_gpu_check_reads_the_driver_through_libcuda(cog_bin, tmp_path):
    """A stand-in libcuda.so.1 (found first through LD_LIBRARY_PATH) whose cuDriverGetVersion says 12.2."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "cuda.c").write_text("int cuDriverGetVersion(int *v) { *v = 12020; return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib / "libcuda.so.1"), str(lib / "cuda.c")], check=True)
    project = write(tmp_path / "project", {"run.py": CLEAN_RUN_PY, "cog.yaml":
                                           'build:\n  python_version: "3.11"\n  gpu: true\n  cuda: "12.4"\n'
                                           'run: "run.py:Runner"\n'})
    env = {"COG_SKIP_DOCKER_CHECK": "1", "LD_LIBRARY_PATH": str(lib)}
    result = doctor(cog_bin, project, env=env)
    assert result.returncode == 1, result.stderr
    assert ("cog.yaml:4: error: the image needs CUDA 12.4 but this machine's NVIDIA driver supports CUDA 12.2 at most"
            in result.stderr)
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  gpu: true\n  cuda: "12.1"\n'
                                      'run: "run.py:Runner"\n')
    result = doctor(cog_bin, project, env=env)
    assert result.returncode == 0, result.stderr
    assert "no issues found" in result.stderr
