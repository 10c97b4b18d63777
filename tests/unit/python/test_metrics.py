"""Metric names, record modes, nesting and per-prediction scopes (Cog §5.8)."""
import asyncio

import pytest

import cog
from cog._scope import current_scope, prediction_scope, validate_metric_name


@pytest.mark.parametrize("name,fragment", [
    ("", "metric name must not be empty"),
    ("a" * 129, "metric name must be 128 characters or fewer"),
    ("a.b.c.d.e", "metric name must have at most 4 dot-separated segments"),
    (".a", "metric name must not start with a dot"),
    ("a.", "metric name must not end with a dot"),
    ("a..b", "metric name must not contain empty segments (consecutive dots)"),
    ("1a", "metric name segment '1a' must start with a letter"),
    ("a__b", "metric name segment 'a__b' must not contain consecutive underscores"),
    ("a_", "metric name segment 'a_' must end with a letter or digit"),
    ("a-b", "metric name segment 'a-b'"),
    ("predict_time", "reserved"),
    ("cog.anything", "reserved"),
])
def test_invalid_names(name, fragment):
    with pytest.raises(ValueError) as caught:
        validate_metric_name(name)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("name", ["a", "tokens", "timing.preprocess", "a.b.c.d", "x1_y2", "A" * 128])
def test_valid_names(name):
    validate_metric_name(name)


def test_modes_nesting_and_events():
    events = []
    with prediction_scope({"user": "ann"}, lambda *e: events.append(e)) as scope:
        assert current_scope() is scope
        assert current_scope().context == {"user": "ann"}
        scope.record_metric("tokens", 3)
        scope.record_metric("tokens", 2, mode="incr")
        scope.record_metric("timing.preprocess", 0.25)
        scope.record_metric("timing.infer", 1)
        scope.metrics["steps"] = ["load"]
        scope.metrics.record("steps", "run", mode="append")
        scope.metrics.record("log", "first", mode="append")
        scope.metrics["gone"] = True
        del scope.metrics["gone"]
        scope.record_metric("timing.infer", None)
        assert scope.metrics["tokens"] == 5
        assert scope.metrics_snapshot() == {
            "tokens": 5, "timing": {"preprocess": 0.25}, "steps": ["load", "run"], "log": ["first"]}
    assert events[:3] == [("tokens", 3, "replace"), ("tokens", 2, "increment"), ("timing.preprocess", 0.25, "replace")]
    assert ("steps", "run", "append") in events
    assert ("gone", None, "replace") in events


def test_type_changes_are_rejected():
    with prediction_scope() as scope:
        scope.record_metric("n", 1)
        with pytest.raises(ValueError, match="delete it"):
            scope.record_metric("n", "text")
        with pytest.raises(ValueError):
            scope.record_metric("n", "x", mode="incr")
        scope.record_metric("n", None)
        scope.record_metric("n", "text")
        with pytest.raises(ValueError, match="cannot append"):
            scope.record_metric("n", "y", mode="append")
        with pytest.raises(ValueError, match="metric mode"):
            scope.record_metric("m", 1, mode="sum")
        assert scope.metrics_snapshot() == {"n": "text"}


def test_scope_outside_prediction_is_inert():
    scope = current_scope()
    scope.record_metric("anything", 1)
    assert scope.context == {}
    assert scope.metrics_snapshot() == {}


def test_base_runner_helpers_use_current_scope():
    class Runner(cog.BaseRunner):
        def run(self) -> str:
            self.record_metric("calls", 1, mode="incr")
            self.scope.metrics["seen"] = True
            return ""

    runner = Runner()
    with prediction_scope() as scope:
        runner.run()
        runner.run()
    assert scope.metrics_snapshot() == {"calls": 2, "seen": True}


def test_concurrent_async_predictions_have_their_own_scope():
    async def prediction(label, delay):
        with prediction_scope({"label": label}) as scope:
            await asyncio.sleep(delay)
            current_scope().record_metric("label", current_scope().context["label"])
            return scope.metrics_snapshot()

    async def main():
        return await asyncio.gather(prediction("a", 0.02), prediction("b", 0.0))

    assert asyncio.run(main()) == [{"label": "a"}, {"label": "b"}]


def test_emit_metric_forwards_with_one_notice(capsys, monkeypatch):
    monkeypatch.setattr(cog, "_notices_shown", set())  # an earlier test in this process may have shown it
    with prediction_scope() as scope:
        cog.emit_metric("first", 1)
        cog.emit_metric("second", 2)
    assert scope.metrics_snapshot() == {"first": 1, "second": 2}
    assert capsys.readouterr().err.count("emit_metric is deprecated") == 1
