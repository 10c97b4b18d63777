"""The worker API the C++ worker calls (cog._worker.Runner) and runner loading (Cog §5.2)."""
import asyncio
import os
import signal
import threading
import time

import pytest
from conftest import FIXTURES, fixture_runner

from cog import CancelationException
from cog._worker import LoadError, Runner, install_cancel_handler


def noop(_value):
    pass


@pytest.mark.parametrize("source,name,message", [
    ("class Runner:\n    def run(self) -> str: ...\n    def predict(self) -> str: ...\n", "Runner",
     "Runner must define either run() or predict(), not both"),
    ("class Runner:\n    def setup(self): ...\n", "Runner", "run or predict method not found: Runner"),
    ("x = 1\n", "Missing", "predictor not found: Missing"),
    ("x = 1\n", None, "predictor not found"),
])
def test_load_errors(make_runner, source, name, message):
    with pytest.raises(LoadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_runner(source, name)


def test_invalid_reference(tmp_path):
    with pytest.raises(LoadError, match="expected format: file.py:ClassName or file.py:function_name"):
        Runner("predict:Predictor", "predict", str(tmp_path))


def test_train_mode_needs_train_method(make_runner):
    with pytest.raises(LoadError, match="train method not found on Runner"):
        make_runner("class Runner:\n    def run(self) -> str: ...\n", mode="train")


def test_ref_without_name_prefers_runner(make_runner):
    runner = make_runner('''
        class Predictor:
            def predict(self) -> str:
                return "predictor"

        class Runner:
            def run(self) -> str:
                return "runner"
    ''', name=None)
    assert runner.run({}, noop) == "runner"


def test_non_base_class_and_legacy_predict(make_runner):
    with pytest.warns(DeprecationWarning):
        runner = make_runner('''
            class Predictor:
                def predict(self, x: int = 1) -> int:
                    return x + 1
        ''', name="Predictor")
    assert runner.run(runner.validate_and_prepare({"x": 2}), noop) == 3


def test_legacy_fixture_and_module_state():
    runner = fixture_runner("legacy_predictor")
    runner.setup()
    assert runner.run(runner.validate_and_prepare({"text": "bob"}), noop) == "hello bob"
    assert runner.mode == "predict" and not runner.is_async and runner.max_concurrency == 1


def test_function_runner_and_train_targets():
    function = fixture_runner("function_runner")
    assert function.run(function.validate_and_prepare({"text": "abc", "times": 2}), noop) == "cbacba"
    assert not function.has_healthcheck
    train = fixture_runner("train_function", "train")
    assert train.mode == "train"
    output = train.encode_output(train.run(train.validate_and_prepare({"steps": 3}), noop))
    assert output["weights"].startswith("data:text/plain;base64,")
    trainer = fixture_runner("train_class", "train")
    trainer.setup()
    assert trainer.run(trainer.validate_and_prepare({}), noop).read_text() == "default:1"


def test_setup_weights(monkeypatch):
    monkeypatch.setenv("COG_WEIGHTS", "https://example.com/weights.tar")
    runner = fixture_runner("setup_weights")
    runner.setup()
    assert runner.run({}, noop) == "weights=https://example.com/weights.tar"
    monkeypatch.delenv("COG_WEIGHTS")
    runner.setup()
    assert runner.run({}, noop) == "weights=None"


def test_setup_failure_propagates():
    runner = fixture_runner("setup_fails")
    with pytest.raises(RuntimeError, match="setup exploded"):
        runner.setup()


def test_healthchecks(make_runner):
    assert fixture_runner("healthcheck_false").healthcheck() == (False, "Healthcheck failed: user-defined healthcheck returned False")
    assert fixture_runner("hello").healthcheck() == (True, "")
    raising = make_runner('''
        class Runner:
            def healthcheck(self):
                raise RuntimeError("disk full")
            def run(self) -> str:
                return ""
    ''')
    assert raising.healthcheck() == (False, "Healthcheck failed: disk full")
    other = make_runner('''
        class Runner:
            async def healthcheck(self):
                return "not a bool"
            async def run(self) -> str:
                return ""
    ''')
    assert other.healthcheck() == (True, "")


def test_sync_iterator_streams_encoded_items():
    runner = fixture_runner("output_iterator")
    seen = []
    assert runner.run({"count": 2}, seen.append) == ["item 0", "item 1"]
    assert seen == ["item 0", "item 1"]
    assert runner.is_iterator


def test_concatenate_iterator_is_streaming():
    runner = fixture_runner("output_concatenate")
    assert runner.streaming
    assert runner.run({"prompt": "a b"}, noop) == ["a ", "b "]


def test_generator_error_keeps_partial_outputs(make_runner):
    runner = make_runner('''
        from typing import Iterator
        class Runner:
            def run(self) -> Iterator[int]:
                yield 1
                raise ValueError("broke")
    ''')
    seen = []
    with pytest.raises(ValueError, match="broke"):
        runner.run({}, seen.append)
    assert seen == [1]


def test_async_generator_with_async_setup():
    runner = fixture_runner("async_generator")
    assert runner.is_async and runner.is_iterator
    runner.setup()
    seen = []
    result = runner.loop.run_until_complete(runner.run_async({"count": 2}, seen.append))
    assert result == seen == ["tick 0", "tick 1"]


def test_async_concurrency_on_the_loop_thread():
    runner = fixture_runner("async_concurrent")
    assert runner.is_async and runner.max_concurrency == 8
    runner.setup()
    runner.start_loop_thread()
    futures = [asyncio.run_coroutine_threadsafe(
        runner.predict_async({"seconds": 0.2, "label": str(i)}, prediction_id=f"p{i}"), runner.loop) for i in range(4)]
    assert sorted(f.result(timeout=10)[0] for f in futures) == ["done 0", "done 1", "done 2", "done 3"]

    async def cancel_soon():
        task = asyncio.ensure_future(runner.predict_async({"seconds": 30}))
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "finished"

    assert asyncio.run_coroutine_threadsafe(cancel_soon(), runner.loop).result(timeout=10) == "cancelled"
    runner.loop.call_soon_threadsafe(runner.loop.stop)
    runner.start_loop_thread().join(timeout=5)


def test_predict_collects_metrics_and_context():
    runner = fixture_runner("metrics")
    events = []
    output, metrics = runner.predict({}, {"user": "ann"}, noop, lambda *e: events.append(e))
    assert output == "ann"
    assert metrics == {"tokens": 5, "timing": {"preprocess": 0.25}, "steps": ["load", "run"]}
    assert ("tokens", 2, "increment") in events
    with pytest.raises(ValueError, match="must not start with a dot") as caught:
        runner.predict({"bad_name": ".x"})
    assert caught.value.cog_metrics["tokens"] == 5


def test_exceptions_propagate_to_the_caller():
    with pytest.raises(ValueError, match="this is a value error"):
        fixture_runner("raises").predict({})
    with pytest.raises(SystemExit):
        fixture_runner("sys_exit").predict({"code": 3})


def test_cancel_handler_raises_in_main_thread():
    assert threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGUSR1)
    install_cancel_handler()
    try:
        runner = fixture_runner("sleep")
        # A second's delay, so that on a loaded machine the signal still lands inside run().
        timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGUSR1))
        started = time.monotonic()
        with pytest.raises(CancelationException):
            timer.start()
            runner.run({"seconds": 20.0}, noop)
        assert time.monotonic() - started < 15
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_project_root_is_importable(tmp_path):
    (tmp_path / "mylib.py").write_text("VALUE = 'from root'\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "predict.py").write_text(
        "import mylib\nclass Runner:\n    def run(self) -> str:\n        return mylib.VALUE\n")
    runner = Runner("sub/predict.py:Runner", "predict", str(tmp_path))
    assert runner.run({}, noop) == "from root"
    assert os.getcwd() == str(tmp_path)


def test_every_fixture_loads_and_describes_itself():
    for project in sorted(FIXTURES.iterdir()):
        runner = fixture_runner(project.name)
        assert runner.openapi("1.0").startswith('{"components":{"schemas":{'), project.name


def test_driver_style_async_setup_and_healthcheck_inside_asyncio_run(make_runner):
    # The C++ worker's driver runs asyncio.run() in the main thread, awaits setup() there and
    # calls healthcheck() from another thread.
    runner = make_runner('''
        import asyncio
        class Runner:
            async def setup(self):
                self.loop = asyncio.get_running_loop()
            async def healthcheck(self):
                return asyncio.get_running_loop() is self.loop and False
            async def run(self) -> str:
                return "ok"
    ''')

    async def driver():
        pending = runner.setup()
        assert pending is not None
        await pending
        from_thread = await asyncio.get_running_loop().run_in_executor(None, runner.healthcheck)
        in_loop = await runner.healthcheck_async()
        with pytest.raises(RuntimeError, match="running event loop"):
            runner._await(asyncio.sleep(0))
        return from_thread, in_loop, await runner.run_async({}, noop)

    unhealthy = (False, "Healthcheck failed: user-defined healthcheck returned False")
    assert asyncio.run(driver()) == (unhealthy, unhealthy, "ok")


def test_input_error_args_carry_the_detail_list():
    from cog._worker import InputError

    runner = fixture_runner("hello")
    with pytest.raises(InputError) as caught:
        runner.validate_and_prepare({"name": 5})
    assert caught.value.args[0] == caught.value.errors
    assert caught.value.errors[0]["loc"] == ["body", "input", "name"]
    assert str(caught.value) == 'name: 5 is not of type "string"'
