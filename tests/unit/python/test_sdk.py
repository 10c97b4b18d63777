"""The public surface of the cog package (Cog §5.1–§5.4, §5.7)."""
import dataclasses
import importlib
import pathlib
import subprocess
import sys
import warnings

import pytest

import cog


def test_exports():
    for name in cog.__all__:
        assert getattr(cog, name) is not None, name
    assert cog.exceptions.CancelationException is cog.CancelationException
    assert issubclass(cog.CancelationException, BaseException)
    assert not issubclass(cog.CancelationException, Exception)
    assert importlib.import_module("cog.types").Path is cog.Path
    assert isinstance(cog.__version__, str)


def test_experimental_feature_warning_is_lazy_with_one_notice():
    code = "import cog; a = cog.ExperimentalFeatureWarning; b = cog.ExperimentalFeatureWarning; print(issubclass(a, FutureWarning))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(pathlib.Path(cog.__file__).parents[1])})
    assert result.stdout.strip() == "True"
    assert result.stderr.count("ExperimentalFeatureWarning") == 1
    plain = subprocess.run([sys.executable, "-c", "import cog"], capture_output=True, text=True, check=True,
                           env={"PYTHONPATH": str(pathlib.Path(cog.__file__).parents[1])})
    assert plain.stderr == ""


def test_path_is_a_pathlib_path(tmp_path):
    path = cog.Path(tmp_path) / "x.txt"
    assert isinstance(path, cog.Path) and isinstance(path, pathlib.Path)
    path.write_text("hi")
    assert cog.Path.validate(str(path)).read_text() == "hi"


def test_secret():
    secret = cog.Secret("hunter2")
    assert str(secret) == "**********"
    assert "hunter2" not in repr(secret)
    assert secret.get_secret_value() == "hunter2"


def test_base_model_becomes_dataclass():
    class Output(cog.BaseModel):
        text: str
        score: float = 0.0

    assert dataclasses.is_dataclass(Output)
    assert Output(text="a") == Output(text="a", score=0.0)

    class Plain(cog.BaseModel, auto_dataclass=False):
        text: str

    assert not dataclasses.is_dataclass(Plain)


def test_base_predictor_is_deprecated():
    with pytest.warns(DeprecationWarning, match="BasePredictor is deprecated"):
        class Predictor(cog.BasePredictor):
            def predict(self) -> str:
                return ""
    assert issubclass(Predictor, cog.BaseRunner)


def test_input_options():
    info = cog.Input(default=3, description="d", ge=1, le=5, choices=[3, 4], deprecated=True)
    assert isinstance(info, cog.FieldInfo)
    assert (info.default, info.description, info.ge, info.le, info.choices, info.deprecated) == (3, "d", 1, 5, [3, 4], True)
    assert not cog.Input().has_default
    assert cog.Input(default=None).has_default
    with pytest.raises(TypeError, match="default_factory"):
        cog.Input(default_factory=lambda: 1)


def test_streaming_decorator_forms():
    @cog.streaming
    def first():
        yield 1

    @cog.streaming()
    def second():
        yield 1

    assert first._cog_streaming and second._cog_streaming
    assert list(first()) == [1]


def test_concurrent_decorator():
    @cog.concurrent(max=8)
    async def run_async():
        return 1

    @cog.concurrent
    def run_sync():
        return 1

    assert run_async._cog_max_concurrency == 8
    assert run_sync._cog_max_concurrency == 1
    with pytest.raises(TypeError, match="requires an async function"):
        @cog.concurrent(max=2)
        def bad():
            return 1
    with pytest.raises(ValueError):
        cog.concurrent(max=0)
    with pytest.raises(TypeError):
        cog.concurrent(max="4")


def test_concatenate_iterator_is_generic():
    import typing

    assert typing.get_origin(cog.ConcatenateIterator[str]) is cog.ConcatenateIterator
    assert typing.get_args(cog.AsyncConcatenateIterator[str]) == (str,)


def test_file_is_deprecated():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class MyFile(cog.File):
            pass

    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_url_file_requires_http():
    with pytest.raises(ValueError):
        cog.URLFile("/local/path")
    remote = cog.URLFile("https://example.com/a/b.png")
    assert remote.name == "b.png"
    assert cog.URLPath.from_url("https://example.com/x/y.bin").source == "https://example.com/x/y.bin"


def test_sdk_has_no_third_party_imports():
    code = "import sys, cog, cog._worker; print(sorted(m for m in ('pydantic', 'fastapi', 'numpy', 'requests', 'attrs') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(pathlib.Path(cog.__file__).parents[1])})
    assert result.stdout.strip() == "[]"
