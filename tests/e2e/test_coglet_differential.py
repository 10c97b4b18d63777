"""Differential test: our cog-server against the real Cog runtime (cog + coglet 0.23.1 from PyPI).

For each fixture predictor both servers are started on the same project, sent the same requests,
and their answers (status code and JSON body, webhook payloads, SSE events) compared field by
field after normalising only what has to differ: generated ids, timestamps, durations, versions.

Deliberate differences (everything else must be equal):

| field / case                         | ours                                   | Cog (coglet 0.23.1)                        | why |
|--------------------------------------|----------------------------------------|--------------------------------------------|-----|
| prediction `input`, `created_at`,    | present                                | absent                                     | the classic prediction object, a superset (reference §4.6: "safe to return the classic superset"); `cog run` and webhooks consumers of classic Cog read them |
| `started_at`, `completed_at`         |                                        |                                            | |
| generated prediction id              | `pred_<hex ns><4 hex seq>`             | `pred_<16 hex>`                            | both opaque; ours also unique within one nanosecond |
| `cog_version`, health `version`      | our SDK compatibility version, our build | 0.23.1, coglet's build info              | different programs |
| health `setup.logs`                  | user output of import + setup, 3 trace lines | coglet's trace lines; setup prints are lost (logged as "orphan"), a failed setup is one summary line | reference §4.1: setup logs hold everything printed during setup; we keep the user's lines and traceback |
| failed prediction `error`            | `ValueError: msg`                      | `Prediction failed: Prediction failed: ValueError: msg` | the doubled prefix is coglet noise; reference §4.6 documents `ValueError: msg` |
| failed prediction `logs`             | output + the Python traceback          | output only (traceback on coglet's stderr) | the traceback is the most useful log line (classic Cog kept it); test_server_http pins it |
| logs of a subprocess (`logs` fixture) | captured (fd-level)                    | lost (only Python's sys.stdout/stderr)     | classic Cog captured fds 1 and 2; model code often shells out |
| unreachable file URL input           | 422 `{id,error,logs,status,metrics}`   | 200 `status: failed`, `Input validation error: …` | reference §4.6 (worker rejects input → 422); test_server_http pins it; messages name different HTTP libraries |
| non-URL string for a `Path` input    | `Path` (the run fails opening it)      | plain `str` (the run fails on `.read_text`) | the annotation promises a Path |
| `int` input sent as `3.0`, `float` as `1` | converted to the declared type    | passed through as JSON typed it            | the annotation's type; equal as JSON numbers, so not visible below |
| empty request body                   | `{"input": {}}`                        | 400 `Failed to parse the request body as JSON` | reference §4.2 ("a missing body is treated as {"input": {}}"); test_server_http pins it |
| `metrics.record(k, v, mode="append")` on a list of another item type | appends | `TypeError: Metric 'k' has type list, cannot set to str …` | coglet's own docstring: append pushes to the array; `metrics` fixture |
| malformed request bodies (not JSON, `id`/`context` of the wrong type, unknown webhook event) | same status (400 / 422), a JSON `detail` list | plain-text serde/axum message | one error shape for every 4xx of ours; compared by status |
| `webhook` that is not an http(s) URL | 422                                    | accepted, never delivered                  | classic Cog validated it (a typo would otherwise lose every result silently) |
| /openapi.json key order              | as generated (Cog's static serialiser order) | re-serialised, keys sorted            | JSON object order carries no meaning; compared as parsed JSON |
| worker died in a prediction (`os_exit`, `segfault`) | error says how; health `DEFUNCT`; later predictions 503 | `Worker crashed`; health `UNHEALTHY` (healthcheck channel closed); the slot is poisoned, later predictions 409 forever | reference §4.1: a worker crash is terminal, DEFUNCT; test_worker_death pins both sides |
| cancel of a sync `run()` in `time.sleep` | interrupted at once                  | takes effect when the sleep returns, so the canceled payload may carry run()'s output | reference §5.11; the cancel cases sleep only 2 s and drop that output |
| list of files with `--upload-url`    | in the order run() returned them       | in the order the uploads finished          | a list's order is part of the output; compared sorted |
| `output` webhook of a returned value | `output: "hello x"`, sent before `completed` | `output: ["hello x"]`, may arrive after `completed` | classic Cog sent the value itself; the field has the Output schema's type |
| order of concurrent `output` webhooks | in output order                        | fired concurrently, any order              | compared sorted by the outputs they carry |

Not compared yet: metric type changes (coglet raises `TypeError: Metric 'k' has type int, cannot
set to str without deleting first` and tells int from float; ours raises `ValueError: metric 'k'
already holds a number; delete it …`, pinned by tests/unit/python/test_metrics.py) and `None` as a
metric value (coglet rejects it; ours deletes the key, reference §5.8). Class trainers (`train_class`): coglet 0.23.1 fails their setup with `run or predict
method not found`; the function trainer is. coglet answers a sync prediction a moment before its
slot is free (an immediate next request gets 409), so the flows wait for a non-BUSY health first.

Needs PyPI once (the venv is cached under $XDG_CACHE_HOME/cog-test/coglet-venv, else ~/.cache/...); skips when it cannot be
reached.
"""
import http.server
import json
import re
import socket
import threading
import time

import pytest

from cog_server_harness import FIXTURES, Recorder, Server
from coglet_helpers import Coglet, CogletUnavailable, coglet_venv, prepare_project, project_ref

# ---- the two servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def venv():
    try:
        return coglet_venv()
    except CogletUnavailable as error:
        pytest.skip(f"the real Cog runtime could not be installed from PyPI: {error}")


class Pair:
    """Our server and coglet on the same fixture."""

    def __init__(self, server_bin, venv, workdir, fixture, train=False, env=None, coglet_env=None,
                 wait=("READY", "SETUP_FAILED", "UNHEALTHY"), args=None):
        project = prepare_project(FIXTURES / fixture, workdir / fixture, train=train)
        stub_var = "COG_TRAIN_TYPE_STUB" if train else "COG_PREDICT_TYPE_STUB"
        our_env = dict(env or {}, **{stub_var: project_ref(project, train)})
        mode = ("--x-mode", "train") if train else ()
        self.ours = Server(server_bin, fixture, env=our_env, stub_var=stub_var,
                           args=mode + tuple((args or {}).get("ours", ())))
        self.cog = Coglet(venv, project, train=train, env=dict(env or {}, **(coglet_env or {})),
                          args=tuple((args or {}).get("cog", ())))
        if wait:
            for _, server in self.both():
                server.wait_for(*wait, timeout=60)

    def both(self):
        return (("ours", self.ours), ("cog", self.cog))

    def close(self):
        for _, server in self.both():
            server.shutdown(timeout=10)


@pytest.fixture(scope="module")
def pairs(server_bin, venv, tmp_path_factory):
    """pairs(fixture, ...) -> a Pair, shared by the cases of a fixture unless fresh=True."""
    shared = {}
    started = []
    workdir = tmp_path_factory.mktemp("coglet-differential")

    def get(fixture, fresh=False, **kwargs):
        key = (fixture, json.dumps(kwargs, sort_keys=True))
        if not fresh and key in shared:
            return shared[key]
        directory = workdir / f"{len(started)}"
        directory.mkdir()
        pair = Pair(server_bin, venv, directory, fixture, **kwargs)
        started.append(pair)
        if not fresh:
            shared[key] = pair
        return pair

    yield get
    for pair in started:
        pair.close()


# ---- observing and normalising -----------------------------------------------------------------


def observe(server, method, path, body=None, headers=None):
    status, parsed, raw, response_headers = server.request(method, path, body, headers, timeout=60)
    content_type = {k.lower(): v for k, v in response_headers.items()}.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        parsed = parse_sse(raw)
    return {"request": f"{method} {path}", "status": status, "body": parsed}


def parse_sse(raw):
    events = []
    for block in raw.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append({"event": fields["event"], "data": json.loads(fields.get("data", "null"))})
    return events


OUR_EXTRA_FIELDS = {"input", "created_at", "started_at", "completed_at"}
GENERATED_ID = re.compile(r"^pred_[0-9a-f]{16,}$")
STATUSES = {"starting", "processing", "succeeded", "failed", "canceled"}
OUR_SETUP_TRACE = {"Spawning worker subprocess", "File descriptor redirection complete", "Server ready"}


def is_prediction(value):
    return isinstance(value, dict) and value.get("status") in STATUSES and "id" in value


def normalise_prediction(body, ours, theirs):
    body = dict(body)
    if ours:
        for key in OUR_EXTRA_FIELDS - set(theirs or {}):
            body.pop(key, None)
    if GENERATED_ID.match(str(body.get("id", ""))):
        body["id"] = "<generated>"
    metrics = body.get("metrics")
    if isinstance(metrics, dict) and "predict_time" in metrics:
        assert isinstance(metrics["predict_time"], (int, float)) and metrics["predict_time"] >= 0, metrics
        body["metrics"] = dict(metrics, predict_time="<seconds>")
    if isinstance(body.get("error"), str) and not ours:
        error = body["error"]
        while error.startswith("Prediction failed: "):
            error = error[len("Prediction failed: "):]
        body["error"] = error
    if ours and body.get("status") == "failed" and isinstance(body.get("logs"), str):
        body["logs"] = body["logs"].split("Traceback (most recent call last):\n")[0]
    return body


def normalise_health(body):
    setup = body.get("setup", {})
    return {
        "status": body.get("status"),
        "setup": {"status": setup.get("status"), "started_at": "started_at" in setup,
                  "completed_at": "completed_at" in setup},
        "user_healthcheck_error": body.get("user_healthcheck_error"),
        "version.python": body.get("version", {}).get("python"),
    }


def normalise(value, ours, theirs=None):
    """One side's observation in comparable form; `theirs` is the same value on coglet's side."""
    if isinstance(value, list):
        others = theirs if isinstance(theirs, list) else []
        return [normalise(item, ours, others[i] if i < len(others) else None) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if "request" in value and "body" in value:
        body, other = value["body"], (theirs or {}).get("body")
        if value["request"] == "GET /health-check":
            body = normalise_health(body)
        elif value["request"] == "GET /" and isinstance(body, dict):
            body = dict(body, cog_version="<version>")
        elif value["request"] == "GET /openapi.json" and isinstance(body, dict):
            body = dict(body, info=dict(body.get("info", {}), version="<version>"))
        else:
            body = normalise(body, ours, other)
        return dict(value, body=body)
    if "event" in value and "data" in value:
        return dict(value, data=normalise(value["data"], ours, (theirs or {}).get("data")))
    if is_prediction(value):
        return normalise_prediction(value, ours, theirs if isinstance(theirs, dict) else None)
    return value


def run_both(pair, flow, parallel=False):
    """Runs flow(server) on both servers and compares. `parallel` overlaps the two runs (for slow
    flows); not for fixtures that write fixed paths such as /tmp/<name>-weights.txt."""
    results = {}

    def run(name, server):
        try:
            results[name] = flow(server)
        except BaseException as error:  # reported below with the other side's result
            results[name] = error

    threads = [threading.Thread(target=run, args=(name, server)) for name, server in pair.both()]
    for thread in threads:
        thread.start()
        if not parallel:
            thread.join(120)
    for thread in threads:
        thread.join(120)
    for name, server in pair.both():
        if isinstance(results.get(name), BaseException):
            raise AssertionError(f"{name} failed: {str(results[name])[:1500]}\n{server.output[-1500:]}") from results[name]
    theirs = normalise(results["cog"], ours=False)
    ours = normalise(results["ours"], ours=True, theirs=results["cog"])
    assert ours == theirs, f"\nours: {json.dumps(ours)}\ncog:  {json.dumps(theirs)}"
    return results


# ---- the cases ---------------------------------------------------------------------------------


def wait_not_busy(server, timeout=5):
    """coglet answers a sync prediction a moment before its slot is free again (an immediate
    next request gets 409): wait for that before sending the next one, on both sides."""
    deadline = time.monotonic() + timeout
    while server.health().get("status") == "BUSY" and time.monotonic() < deadline:
        time.sleep(0.02)


def wait_status(server, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while server.health().get("status") != wanted:
        assert time.monotonic() < deadline, f"health never became {wanted}"
        time.sleep(0.02)


def requests(*calls):
    """A flow sending these requests one after another: (method, path[, body[, headers]])."""
    def flow(server):
        seen = []
        for call in calls:
            if not call[1].endswith("/cancel"):
                wait_not_busy(server)
            seen.append(observe(server, *call))
        return seen
    return flow


def ours_also_capture(text, flow):
    """Our logs hold `text` where coglet's do not (a subprocess's output): drop it from ours."""
    def wrapped(server):
        seen = flow(server)
        if not isinstance(server, Coglet):
            for observation in seen:
                if isinstance(observation["body"], dict) and "logs" in observation["body"]:
                    observation["body"]["logs"] = observation["body"]["logs"].replace(text, "", 1)
        return seen
    return wrapped


def status_only(flow):
    """For requests coglet rejects with a plain-text body (its JSON extractor's message, e.g.
    `Failed to deserialize the JSON body into the target type: id: invalid type: integer`): ours
    answers the same status with a JSON `detail` list like every other 4xx; compare the status."""
    def wrapped(server):
        seen = flow(server)
        for observation in seen:
            if isinstance(server, Coglet):
                assert isinstance(observation["body"], str), observation
            else:
                assert isinstance(observation["body"], dict) and observation["body"]["detail"], observation
            observation["body"] = "<message>"
        return seen
    return wrapped


def predict(input_=None, **extra):
    return ("POST", "/predictions", dict({"input": input_ if input_ is not None else {}}, **extra))


IMAGE = "data:text/plain;base64,aGk="
TYPED = {"text": "abc", "image": IMAGE}

# (fixture, case name, flow, pair options)
CASES = [
    ("hello", "discovery", requests(("GET", "/")), {}),
    ("hello", "health", requests(("GET", "/health-check")), {}),
    ("hello", "openapi", requests(("GET", "/openapi.json")), {}),
    ("hello", "predict", requests(predict({"name": "a"})), {}),
    ("hello", "default_input", requests(predict()), {}),
    ("hello", "null_input", requests(("POST", "/predictions", {"input": None})), {}),
    ("hello", "with_id", requests(predict({"name": "b"}, id="given-id")), {}),
    ("hello", "put", requests(("PUT", "/predictions/put-id", {"input": {"name": "c"}})), {}),
    ("hello", "put_id_mismatch", requests(("PUT", "/predictions/put-id", {"id": "other", "input": {}})), {}),
    ("hello", "wrong_type", requests(predict({"name": 3})), {}),
    ("hello", "extra_input_dropped", requests(predict({"name": "d", "bogus": 1})), {}),
    ("hello", "input_not_object", requests(predict([1])), {}),
    ("hello", "input_string", requests(predict("text")), {}),
    ("hello", "respond_async", requests(predict({"name": "e"}, id="async-id") + ({"Prefer": "respond-async"},)), {}),
    ("hello", "sse_not_streaming", requests(predict() + ({"Accept": "text/event-stream"},)), {}),
    ("hello", "cancel_unknown", requests(("POST", "/predictions/nope/cancel")), {}),
    ("hello", "unknown_path", requests(("GET", "/nope")), {}),
    ("hello", "context", requests(predict({"name": "f"}, context={"user": "ada"})), {}),
    ("hello", "wrong_methods", requests(("GET", "/predictions"), ("DELETE", "/"), ("POST", "/health-check"),
                                        ("GET", "/predictions/x/cancel"), ("GET", "/predictions/x"),
                                        ("PUT", "/openapi.json", {})), {}),
    ("hello", "malformed_requests", status_only(requests(
        ("POST", "/predictions", "not json"), ("POST", "/predictions", [1]), predict(id=5),
        predict(context={"a": 1}), predict(context="x"),
        predict(webhook="http://127.0.0.1:9/h", webhook_events_filter=["bogus"]))), {}),
    ("input_types", "all_inputs", requests(predict(dict(
        TYPED, document="data:text/plain;base64,ZG9j", token="s3", images=["data:text/plain;base64,aQ=="],
        options={"k": 1}, note="n", mixed="x", size="large", color="green", tags=["q", "r"]))), {}),
    ("input_types", "defaults", requests(predict(TYPED)), {}),
    ("input_types", "coercions", requests(predict(dict(TYPED, count=3.0, ratio=1))), {}),
    ("input_types", "string_constraints", requests(
        predict(dict(TYPED, text="")), predict(dict(TYPED, text="ABC")), predict(dict(TYPED, text="a" * 21))), {}),
    ("input_types", "number_bounds", requests(
        predict(dict(TYPED, count=0)), predict(dict(TYPED, count=11)), predict(dict(TYPED, ratio=2))), {}),
    ("input_types", "wrong_types", requests(
        predict(dict(TYPED, count="3")), predict(dict(TYPED, count=3.5)), predict(dict(TYPED, flag="true")),
        predict(dict(TYPED, flag=1)), predict(dict(TYPED, tags="a")), predict(dict(TYPED, options="x")),
        predict(dict(TYPED, mixed=1.5))), {}),
    ("input_types", "choices", requests(predict(dict(TYPED, size="medium")), predict(dict(TYPED, color="blue"))), {}),
    ("input_types", "explicit_null", requests(predict(dict(TYPED, note=None))), {}),
    ("input_types", "missing_required", requests(predict({})), {}),
    ("input_types", "several_errors", requests(predict({"text": 5, "count": "x"})), {}),
    ("many_inputs", "openapi", requests(("GET", "/openapi.json")), {}),
    ("many_inputs", "missing_required", requests(predict({})), {}),
    ("many_inputs", "predict", requests(predict({
        "no_default": "x", "path": IMAGE, "image": IMAGE, "choices": "foo", "int_choices": 4})), {}),
    ("many_inputs", "int_choice_not_allowed", requests(predict({
        "no_default": "x", "path": IMAGE, "image": IMAGE, "choices": "foo", "int_choices": 6})), {}),
    ("many_inputs", "choice_wrong_type", requests(predict({
        "no_default": "x", "path": IMAGE, "image": IMAGE, "choices": "foo", "int_choices": "3"})), {}),
    # Invalid base64 ("!!!") is no longer compared: coglet decodes it to an empty file, we refuse it.
    ("many_inputs", "data_urls", requests(predict({
        "no_default": "x", "path": "data:text/plain;base64,aGk=", "image": "data:,hello", "choices": "bar",
        "int_choices": 5}, created_at="2020-01-01T00:00:00Z", output_file_prefix="x")), {}),
    ("legacy_predictor", "predict", requests(predict({"text": "there"}), ("GET", "/openapi.json")), {}),
    ("function_runner", "predict", requests(predict({"text": "abc", "times": 2}), predict({})), {}),
    ("output_dict", "predict", requests(predict({"key": "b"})), {}),
    ("output_iterator", "predict", requests(predict({"count": 2}), predict({"count": 0})), {}),
    ("output_model", "predict", requests(predict({"text": "abc"}), ("GET", "/openapi.json")), {}),
    ("output_path", "predict", requests(predict({"text": "abc"})), {}),
    ("output_paths", "predict", requests(predict({"count": 3})), {}),
    ("output_concatenate", "predict", requests(predict({"prompt": "a b c"})), {}),
    ("output_concatenate", "sse", requests(predict({"prompt": "a b c"}) + ({"Accept": "text/event-stream"},)), {}),
    ("output_concatenate", "openapi", requests(("GET", "/openapi.json")), {}),
    ("streaming_events", "sse", requests(predict({"count": 2}) + ({"Accept": "text/event-stream"},)), {}),
    ("streaming_events", "sync", requests(predict({"count": 2}), ("GET", "/openapi.json")), {}),
    ("async_generator", "predict", requests(predict({"count": 2})), {}),
    ("async_concurrent", "predict", requests(predict({"seconds": 0.01, "label": "y"})),
     {"coglet_env": {"COG_MAX_CONCURRENCY": "8"}}),
    ("raises", "failed", requests(predict(), predict()), {}),
    ("sys_exit", "failed", requests(predict({"code": 3}), ("GET", "/health-check"), predict()), {}),
    ("metrics_modes", "all_modes", requests(predict(context={"user": "ada"}), predict({"name": "timing.extra.deep"})), {}),
    ("metrics_modes", "bad_names", requests(*(predict({"name": name}) for name in (
        "cog.x", "predict_time", "a..b", ".a", "a.", "1abc", "a__b", "ab_", "a.b.c.d.e", "x" * 129))), {}),
    ("logs", "predict", ours_also_capture("from a subprocess\n", requests(predict())), {}),
    ("setup_weights", "no_weights", requests(predict()), {}),
    ("setup_weights", "weights", requests(predict()), {"env": {"COG_WEIGHTS": "/tmp/weights.bin"}}),
    ("healthcheck_false", "unhealthy", requests(("GET", "/health-check"), predict()), {}),
    ("setup_fails", "setup_failed", requests(("GET", "/health-check"), predict()), {}),
    ("train_function", "train", requests(("POST", "/trainings", {"input": {"steps": 3}}), ("GET", "/")),
     {"train": True}),
    ("train_function", "train_invalid", requests(("POST", "/trainings", {"input": {"steps": 0}})), {"train": True}),
    ("train_function", "cancel_unknown", requests(("POST", "/trainings/nope/cancel")), {"train": True}),
    ("train_function", "openapi", requests(("GET", "/openapi.json")), {"train": True}),
    ("train_function", "put", requests(("PUT", "/trainings/t-1", {"id": "t-2", "input": {}}),
                                        ("PUT", "/trainings/t-1", {"input": {"name": "d"}})), {"train": True}),
]


@pytest.mark.parametrize("fixture,case,flow,options", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_same_answers(pairs, fixture, case, flow, options):
    run_both(pairs(fixture, **options), flow)


# ---- cases with their own choreography ----------------------------------------------------------


def await_webhook(recorder, event_status, prediction_id, timeout=30):
    """The first webhook payload of prediction_id (any id when None) with one of these statuses."""
    def matches(r):
        payload = r["json"] or {}
        return prediction_id in (None, payload.get("id")) and payload.get("status") in event_status

    return next(r["json"] for r in recorder.wait_until(lambda seen: any(map(matches, seen)), timeout=timeout)
                if matches(r))


# coglet delivers a cancel to a sync run() only when the blocking call in progress returns (ours
# interrupts time.sleep at once), so the sleeps canceled below are short.
SLEEP = 2


def poll_until_logged(server, prediction_id, text, timeout=10):
    """PUT on an in-flight id answers its current state: poll until run() has printed `text`, so
    that a cancel lands inside the sleep on both sides. Returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        seen = observe(server, "PUT", f"/predictions/{prediction_id}", {"input": {"seconds": SLEEP}},
                       {"Prefer": "respond-async"})
        if text in seen["body"].get("logs", "") or time.monotonic() > deadline:
            return seen
        time.sleep(0.02)


def without_late_output(payload, server):
    """coglet's cancel lands when run() returns, so a canceled payload may carry its output."""
    if isinstance(server, Coglet) and payload.get("status") == "canceled":
        payload.pop("output", None)
    return payload


def test_cancel_async_prediction(pairs):
    """PUT with respond-async, the same PUT again (202 with the current state), cancel, the
    terminal webhook, a second cancel (404), and the server still serves."""
    def flow(server):
        with Recorder() as hooks:
            body = {"input": {"seconds": SLEEP}, "webhook": hooks.url + "/hook",
                    "webhook_events_filter": ["start", "completed"]}
            seen = [observe(server, "PUT", "/predictions/sleepy", body, {"Prefer": "respond-async"})]
            start = await_webhook(hooks, {"processing"}, "sleepy")
            seen.append({"request": "webhook start", "body": start})
            seen.append(poll_until_logged(server, "sleepy", "sleeping"))
            seen.append(observe(server, "POST", "/predictions/sleepy/cancel"))
            seen.append({"request": "webhook completed", "body": without_late_output(
                await_webhook(hooks, {"canceled", "succeeded", "failed"}, "sleepy"), server)})
            seen.append(observe(server, "POST", "/predictions/sleepy/cancel"))
            wait_not_busy(server)
            seen.append(observe(server, "POST", "/predictions", {"input": {"seconds": 0}}))
            return seen

    run_both(pairs("sleep"), flow, parallel=True)


def test_busy_server_answers_409(pairs):
    def flow(server):
        with Recorder() as hooks:
            body = {"id": "busy", "input": {"seconds": SLEEP}, "webhook": hooks.url,
                    "webhook_events_filter": ["start", "completed"]}
            seen = [observe(server, "POST", "/predictions", body, {"Prefer": "respond-async"})]
            await_webhook(hooks, {"processing"}, "busy")
            seen.append(observe(server, "GET", "/health-check"))
            seen.append(observe(server, "POST", "/predictions", {"input": {"seconds": 0}}))
            seen.append(observe(server, "POST", "/predictions/busy/cancel"))
            await_webhook(hooks, {"canceled"}, "busy")
            wait_not_busy(server)  # coglet frees the slot a moment after the terminal webhook
            seen.append(observe(server, "GET", "/health-check"))
            return seen

    run_both(pairs("sleep"), flow, parallel=True)


def test_webhooks_for_an_iterator(pairs):
    """Output events are not throttled: one per item, then completed."""
    def flow(server):
        with Recorder() as hooks:
            body = {"id": "hooked", "input": {"count": 3}, "webhook": hooks.url,
                    "webhook_events_filter": ["output", "completed"]}
            seen = [observe(server, "POST", "/predictions", body, {"Prefer": "respond-async"})]
            await_webhook(hooks, {"succeeded", "failed"}, "hooked")
            # coglet may deliver output webhooks after the completed one: wait for all four (three
            # outputs, completed) rather than a fixed moment a loaded machine may not keep.
            hooks.wait_until(lambda seen: len(seen) >= 4, timeout=30)
            # coglet fires output webhooks concurrently, so they may arrive in any order; ours are
            # sent in order. Compared in the order of the outputs they carry.
            payloads = [r["json"] for r in hooks.requests]
            seen.append(sorted(payloads, key=lambda p: (p["status"] != "processing", len(p.get("output") or []))))
            return seen

    run_both(pairs("output_iterator"), flow)


def test_webhook_output_event_for_a_returned_value(pairs):
    """A returned (not yielded) value is one `output` event, then `completed`."""
    def flow(server):
        with Recorder() as hooks:
            body = {"id": "returned", "input": {"name": "hook"}, "webhook": hooks.url,
                    "webhook_events_filter": ["output", "completed"]}
            seen = [observe(server, "POST", "/predictions", body, {"Prefer": "respond-async"})]
            await_webhook(hooks, {"succeeded", "failed"}, "returned")
            # coglet may deliver the output event after the completed one: wait for both.
            hooks.wait_until(lambda seen: len(seen) >= 2, timeout=30)
            payloads = sorted((r["json"] for r in hooks.requests), key=lambda p: p["status"] != "processing")
            if isinstance(server, Coglet):  # coglet wraps the value in a list (see the table)
                for payload in payloads:
                    if payload["status"] == "processing":
                        assert isinstance(payload["output"], list) and len(payload["output"]) == 1, payload
                        payload["output"] = payload["output"][0]
            seen.append(payloads)
            return seen

    run_both(pairs("hello"), flow)


def test_back_to_back_health_checks(pairs):
    """Every one of many health checks in a row runs the user healthcheck and reports its answer
    (ours once dropped a request that arrived while the previous check was still returning, and
    reported a 5 s timeout)."""
    def flow(server):
        answers = set()
        for _ in range(300):
            health = server.health()
            answers.add((health["status"], health.get("user_healthcheck_error")))
        return sorted(answers)

    run_both(pairs("healthcheck_false"), flow, parallel=True)


def test_setup_in_progress(pairs):
    pair = pairs("slow_setup", fresh=True, env={"SLOW_SETUP_SECONDS": "8"}, wait=None)
    for _, server in pair.both():
        server.wait_for("STARTING", timeout=30)
        # Both report the worker's Python once it has started; on a loaded machine ours may take
        # a moment longer to say so, which is not what this case compares.
        deadline = time.monotonic() + 30
        while "python" not in server.health().get("version", {}) and time.monotonic() < deadline:
            time.sleep(0.05)
    run_both(pair, requests(("GET", "/health-check"), predict()))
    for _, server in pair.both():
        server.wait_for("READY", timeout=30)
    run_both(pair, requests(("GET", "/health-check"), predict()))


# What each side answers once the worker died during a prediction (a deliberate difference):
# Cog's documented contract is a terminal DEFUNCT and 503 (reference §4.1), which we follow;
# coglet 0.23.1 reports UNHEALTHY (as if transient) and poisons the slot, so every later
# prediction gets 409 forever. Its error text is a bare "Worker crashed"; ours says how.
AFTER_WORKER_DEATH = {
    "ours": ("DEFUNCT", None, 503, {"error": "The model's worker process has died (health-check: DEFUNCT); "
                                             "restart the server to run predictions again.", "status": "failed"}),
    "cog": ("UNHEALTHY", "Healthcheck error: protocol error: healthcheck channel closed", 409,
            {"error": "At capacity - all prediction slots busy", "status": "failed"}),
}


def test_setup_timeout(pairs):
    """COG_SETUP_TIMEOUT turns an over-long setup into SETUP_FAILED."""
    pair = pairs("slow_setup", fresh=True, env={"SLOW_SETUP_SECONDS": "10", "COG_SETUP_TIMEOUT": "1"}, wait=None)
    for _, server in pair.both():
        server.wait_for("SETUP_FAILED", timeout=30)
    run_both(pair, requests(("GET", "/health-check"), predict()))


@pytest.mark.parametrize("fixture,how", [("os_exit", "exited with code 1"),
                                         ("segfault", "killed by signal 11 (Segmentation fault)")])
def test_worker_death(pairs, fixture, how):
    pair = pairs(fixture, fresh=True)

    def flow(server):
        seen = [observe(server, "POST", "/predictions", {"input": {}})]
        wait_not_busy(server, timeout=30)  # the death is noticed in a moment, longer on a loaded machine
        health = server.health()
        seen.append((health["status"], health.get("user_healthcheck_error")))
        seen.append(observe(server, "POST", "/predictions", {"input": {}}))
        return seen

    results = {}
    for name, server in pair.both():
        results[name] = flow(server)
    for name, (health, health_error, status, body) in AFTER_WORKER_DEATH.items():
        died, after, again = results[name]
        expected_error = "Worker crashed" if name == "cog" else f"Prediction failed: the worker process {how}"
        assert normalise(died, ours=name == "ours", theirs={"body": {}})["body"] == {
            "error": expected_error, "id": "<generated>", "logs": "", "metrics": {"predict_time": "<seconds>"},
            "status": "failed"}, (name, died)
        assert after == (health, health_error), name
        assert (again["status"], again["body"]) == (status, body), name


@pytest.mark.parametrize("leave", ["close", "half_close"])
def test_disconnect_cancels_a_sync_prediction(pairs, leave):
    """A sync prediction whose client goes away (or shuts its sending side, which Cog's HTTP server
    also takes as a hang-up) is canceled (its webhook says so); the next one runs."""
    def flow(server):
        with Recorder() as hooks:
            data = json.dumps({"id": f"leaving-{leave}", "input": {"seconds": SLEEP}, "webhook": hooks.url,
                               "webhook_events_filter": ["start", "completed"]}).encode()
            client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            client.sendall(b"POST /predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
            start = await_webhook(hooks, {"processing"}, None)
            poll_until_logged(server, start["id"], "sleeping")
            if leave == "close":
                client.close()
            else:
                client.shutdown(socket.SHUT_WR)
            seen = [{"request": "webhook completed", "body": without_late_output(
                await_webhook(hooks, {"canceled", "succeeded", "failed"}, start["id"]), server)}]
            client.close()
            wait_not_busy(server)
            seen.append(observe(server, "POST", "/predictions", {"input": {"seconds": 0}}))
            return seen

    run_both(pairs("sleep"), flow, parallel=True)


class FileServer(http.server.ThreadingHTTPServer):
    """Serves one text file at /input.txt (a file input given by URL)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _FileHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/input.txt"


class _FileHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"from a URL"
        self.send_response(200 if self.path == "/input.txt" else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_file_input_by_url(pairs):
    files = FileServer()
    try:
        run_both(pairs("input_types"), requests(
            predict({"text": "abc", "image": files.url, "images": [files.url, IMAGE]})))
    finally:
        files.shutdown()
        files.server_close()


def sorted_output(flow):
    """coglet 0.23.1 lists uploaded files in the order their uploads finished (ours: the order
    run() returned them): compare sorted, keep the originals in server.unsorted_outputs."""
    def wrapped(server):
        seen = flow(server)
        server.unsorted_outputs = [list(observation["body"]["output"]) for observation in seen]
        for observation in seen:
            observation["body"]["output"] = sorted(observation["body"]["output"])
        return seen
    return wrapped


def test_outputs_uploaded_with_upload_url(pairs, tmp_path):
    """--upload-url: each file output is PUT there and the prediction returns the Location."""
    uploads = {"ours": Recorder(location="http://files.example"), "cog": Recorder(location="http://files.example")}
    try:
        pair = pairs("output_paths", fresh=True, args={name: ("--upload-url", r.url + "/upload/")
                                                       for name, r in uploads.items()})
        run_both(pair, sorted_output(requests(predict({"count": 2}))))
        assert pair.ours.unsorted_outputs == [["http://files.example/upload/out0.txt",
                                               "http://files.example/upload/out1.txt"]]
        received = {name: sorted((r["method"], r["path"], r["body"]) for r in recorder.requests)
                    for name, recorder in uploads.items()}
        assert received["ours"] == received["cog"] == [("PUT", "/upload/out0.txt", b"file 0"),
                                                       ("PUT", "/upload/out1.txt", b"file 1")]
    finally:
        for recorder in uploads.values():
            recorder.close()


def test_shutdown(pairs):
    pair = pairs("hello", fresh=True)
    run_both(pair, requests(("POST", "/shutdown")))
    for name, server in pair.both():
        assert server.process.wait(timeout=20) == 0, name


def test_concurrent_async_predictions(pairs):
    """Two slots (COG_MAX_CONCURRENCY=2, an async run()): two predictions run at once, a third
    gets 409, health is BUSY meanwhile and READY after."""
    def flow(server):
        with Recorder() as hooks:
            seen = []
            for index in range(3):
                body = {"id": f"c{index}", "input": {"seconds": 1, "label": str(index)}, "webhook": hooks.url,
                        "webhook_events_filter": ["completed"]}
                seen.append(observe(server, "POST", "/predictions", body, {"Prefer": "respond-async"}))
            seen.append(observe(server, "GET", "/health-check"))
            seen.append({"request": "webhooks", "body": sorted(
                (await_webhook(hooks, {"succeeded", "failed"}, f"c{index}") for index in range(2)),
                key=lambda payload: payload["id"])})
            wait_not_busy(server)
            seen.append(observe(server, "GET", "/health-check"))
            return seen

    run_both(pairs("async_concurrent", env={"COG_MAX_CONCURRENCY": "2"}), flow, parallel=True)


def test_sse_reattach_with_put(pairs):
    """PUT with Accept: text/event-stream on a streaming prediction in flight attaches to its
    events (replayed from the start) instead of starting another one."""
    def flow(server):
        headers = {"Accept": "text/event-stream"}
        body = {"input": {"count": 20}}  # 3 s of events: the second PUT lands while it runs
        first = {}
        thread = threading.Thread(target=lambda: first.update(
            observe(server, "PUT", "/predictions/streamed", body, headers)))
        thread.start()
        wait_status(server, "BUSY")  # the first PUT's prediction is running, however slow the start
        second = observe(server, "PUT", "/predictions/streamed", body, headers)
        thread.join(30)
        return [first, second]

    run_both(pairs("streaming_events"), flow)
