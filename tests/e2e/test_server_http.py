"""cog-server endpoint by endpoint (reference §4.2–4.10) against the SDK's fixture predictors."""
import socket
import subprocess
import threading
import time

import pytest

from cog_server_harness import Recorder

WORKER_DEAD = {"error": "The model's worker process has died (health-check: DEFUNCT); restart the server to run predictions again.",
               "status": "failed"}
SETUP_NOT_DONE = {"error": "Setup has not finished yet. Wait until it has finished, or GET /health-check for status.",
                  "status": "failed"}


def test_discovery_document(serve):
    server = serve("hello")
    status, body, raw, headers = server.request("GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body == {"cog_version": "0.22.0", "docs_url": "/docs", "openapi_url": "/openapi.json",
                    "shutdown_url": "/shutdown", "healthcheck_url": "/health-check",
                    "predictions_url": "/predictions",
                    "predictions_idempotent_url": "/predictions/{prediction_id}",
                    "predictions_cancel_url": "/predictions/{prediction_id}/cancel"}
    assert " " not in raw  # compact JSON, as Cog emits


def test_health_check_ready_with_setup_logs(serve):
    server = serve("logs")
    health = server.health()
    assert health["status"] == "READY"
    assert health["setup"]["status"] == "succeeded"
    assert "setup log line\n" in health["setup"]["logs"]
    assert health["setup"]["started_at"] <= health["setup"]["completed_at"]
    assert health["version"]["python_sdk"] == "0.22.0"
    assert "user_healthcheck_error" not in health


def test_openapi_document_comes_from_the_runner(serve):
    server = serve("hello")
    status, body, raw, _ = server.request("GET", "/openapi.json")
    assert status == 200
    assert body["openapi"] == "3.0.2"
    assert body["components"]["schemas"]["Input"]["properties"]["name"]["default"] == "world"
    assert raw.index('"openapi"') < raw.index('"paths"')  # served as generated, order kept


def test_sync_prediction_succeeds(serve):
    server = serve("hello")
    status, body = server.predict({"input": {"name": "sync"}, "id": "abc"})
    assert status == 200
    assert body["id"] == "abc"
    assert body["status"] == "succeeded"
    assert body["output"] == "hello sync"
    assert body["input"] == {"name": "sync"}
    assert body["logs"] == ""
    assert isinstance(body["metrics"]["predict_time"], float)
    assert "error" not in body


def test_missing_body_and_null_input_mean_empty_input(serve):
    server = serve("hello")
    status, body, _, _ = server.request("POST", "/predictions", b"")
    assert (status, body["output"]) == (200, "hello world")
    status, body = server.predict({"input": None})
    assert (status, body["output"]) == (200, "hello world")


def test_generated_ids_are_unique(serve):
    server = serve("hello")
    ids = {server.predict()[1]["id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(i.startswith("pred_") for i in ids)


def test_invalid_input_is_422_with_cog_shape(serve):
    server = serve("hello")
    status, body = server.predict({"input": {"name": 3, "unknown": "dropped"}})
    assert status == 422
    assert body == {"detail": [{"loc": ["body", "input", "name"], "msg": '3 is not of type "string"',
                                "type": "value_error"}]}


def test_missing_required_input(serve):
    server = serve("many_inputs")
    status, body = server.predict({"input": {}})
    assert status == 422
    missing = sorted(d["loc"][2] for d in body["detail"])
    assert missing == ["choices", "image", "int_choices", "no_default", "path"]
    assert all(d["msg"] == "Field required" and d["type"] == "value_error.missing" for d in body["detail"])


def test_bad_file_url_fails_the_prediction_with_422(serve):
    server = serve("input_types")
    status, body = server.predict({"input": {"text": "abc", "image": "http://127.0.0.1:1/nope.png"}})
    assert status == 422
    assert set(body) == {"id", "error", "logs", "status", "metrics"}
    assert body["status"] == "failed" and body["error"]


def test_exception_fails_prediction(serve):
    server = serve("raises")
    status, body = server.predict()
    assert status == 200
    assert body["status"] == "failed"
    assert body["error"] == "ValueError: this is a value error"
    assert "Traceback" in body["logs"]
    assert server.health()["status"] == "READY"


def test_sys_exit_only_fails_that_prediction(serve):
    server = serve("sys_exit")
    status, body = server.predict()
    assert (status, body["status"]) == (200, "failed")
    assert "SystemExit" in body["error"]
    assert server.health()["status"] == "READY"
    assert server.predict()[1]["status"] == "failed"  # the worker is still there


def test_logs_from_print_stderr_and_subprocess(serve):
    server = serve("logs")
    status, body = server.predict()
    assert status == 200
    assert body["output"] == "logged"
    assert body["logs"] == "print to stdout\nprint to stderr\nfrom a subprocess\n"


def test_metrics_are_merged(serve):
    server = serve("metrics")
    status, body = server.predict({"input": {}, "context": {"user": "ada"}})
    assert status == 200
    assert body["output"] == "ada"
    metrics = dict(body["metrics"])
    assert isinstance(metrics.pop("predict_time"), float)
    assert metrics == {"tokens": 5, "timing": {"preprocess": 0.25}, "steps": ["load", "run"]}


def test_bad_metric_name_fails_prediction(serve):
    server = serve("metrics")
    _, body = server.predict({"input": {"bad_name": "cog.reserved"}})
    assert body["status"] == "failed"
    assert "reserved" in body["error"]


def test_iterator_output_is_an_array(serve):
    server = serve("output_iterator")
    assert server.predict({"input": {"count": 2}})[1]["output"] == ["item 0", "item 1"]


def test_file_output_is_a_data_url(serve):
    server = serve("output_path")
    _, body = server.predict({"input": {"text": "hi"}})
    assert body["output"] == "data:text/plain;base64,aGk="


def test_file_output_is_uploaded_with_upload_url(serve):
    uploads = Recorder(location="http://files.example")
    try:
        server = serve("output_path", args=("--upload-url", uploads.url + "/upload/"))
        _, body = server.predict({"input": {"text": "hi"}})
        assert body["status"] == "succeeded", body
        [put] = uploads.requests
        assert put["method"] == "PUT"
        assert put["path"] == "/upload/output.txt"
        assert put["body"] == b"hi"
        assert body["output"] == "http://files.example/upload/output.txt"
    finally:
        uploads.close()


def test_put_is_idempotent_and_checks_the_id(serve):
    server = serve("hello")
    status, body = server.predict({"id": "other", "input": {}}, path="/predictions/mine", method="PUT")
    assert status == 422
    assert body == {"detail": [{"loc": ["body", "id"], "msg": "prediction ID must match the ID supplied in the URL",
                                "type": "value_error"}]}
    status, body = server.predict({"input": {"name": "put"}}, path="/predictions/mine", method="PUT")
    assert (status, body["id"], body["output"]) == (200, "mine", "hello put")


def test_cancel_unknown_prediction_is_404(serve):
    server = serve("hello")
    status, body, _, _ = server.request("POST", "/predictions/nope/cancel")
    assert (status, body) == (404, {})


def read_http_reply(sock) -> str:
    """One whole HTTP/1.1 reply: the headers, then Content-Length bytes (TCP may split them)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-reply: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def test_post_without_content_length_is_answered(serve):
    # What `curl -X POST …/cancel` sends: no body and no Content-Length.
    server = serve("hello")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /predictions/nope/cancel HTTP/1.1\r\nHost: localhost\r\n\r\n")
        reply = read_http_reply(sock)
    assert reply.startswith("HTTP/1.1 404")
    assert reply.endswith("{}")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /predictions HTTP/1.1\r\nHost: localhost\r\n\r\n")
        reply = read_http_reply(sock)
    assert reply.startswith("HTTP/1.1 200") and '"output":"hello world"' in reply


def test_sync_cancel(serve):
    server = serve("sleep")
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        response=server.predict({"input": {"seconds": 60}}, path="/predictions/s1", method="PUT")))
    thread.start()
    wait_status(server, "BUSY")  # s1 exists: the PUTs below only read its state
    wait_running(server, "s1", "sleeping")
    status, body, _, _ = server.request("POST", "/predictions/s1/cancel")
    assert (status, body) == (200, {})
    thread.join(30)
    status, body = result["response"]
    assert (status, body["status"]) == (200, "canceled")
    assert "sleeping" in body["logs"]
    assert server.health()["status"] == "READY"
    assert server.predict({"input": {"seconds": 0}})[1]["output"] == "awake"


def test_409_at_capacity_and_busy(serve):
    server = serve("sleep")
    status, body = server.predict({"id": "long", "input": {"seconds": 60}}, headers={"Prefer": "respond-async"})
    assert (status, body) == (202, {"id": "long", "status": "starting"})
    assert server.health()["status"] == "BUSY"
    status, body = server.predict({"input": {"seconds": 0}})
    assert status == 409
    assert body == {"error": "At capacity - all prediction slots busy", "status": "failed"}
    # A PUT for the prediction in flight returns its state instead of starting another.
    status, body = server.predict({"input": {}}, path="/predictions/long", method="PUT",
                                  headers={"Prefer": "respond-async"})
    assert status == 202 and body["id"] == "long" and body["status"] in ("starting", "processing")
    assert server.request("POST", "/predictions/long/cancel")[0] == 200
    server.wait_for("READY")


def test_503_while_setup_runs(serve):
    server = serve("slow_setup", env={"SLOW_SETUP_SECONDS": "3"}, wait=None)
    health = server.wait_for("STARTING")
    assert health["setup"]["status"] == "starting"
    status, body = server.predict()
    assert (status, body) == (503, SETUP_NOT_DONE)
    assert server.request("GET", "/")[0] == 200
    server.wait_for("READY")
    assert server.predict()[1]["output"] == "ready"


def test_setup_timeout(serve):
    server = serve("slow_setup", env={"SLOW_SETUP_SECONDS": "30", "COG_SETUP_TIMEOUT": "1"}, wait=None)
    health = server.wait_for("SETUP_FAILED", timeout=20)
    assert "timed out" in health["setup"]["logs"]


def test_setup_failure(serve):
    server = serve("setup_fails", wait=("SETUP_FAILED",))
    health = server.health()
    assert health["setup"]["status"] == "failed"
    assert "setting up\n" in health["setup"]["logs"]
    assert "RuntimeError: setup exploded" in health["setup"]["logs"]
    assert server.predict() == (503, SETUP_NOT_DONE)


@pytest.mark.parametrize("fixture", ["os_exit", "segfault"])
def test_worker_crash_makes_the_server_defunct(serve, fixture):
    server = serve(fixture)
    status, body = server.predict()
    assert (status, body["status"]) == (200, "failed")
    assert "worker process" in body["error"]
    assert server.health()["status"] == "DEFUNCT"
    assert server.predict() == (503, WORKER_DEAD)
    assert server.request("GET", "/")[0] == 200


def test_setup_weights_from_environment(serve):
    server = serve("setup_weights", env={"COG_WEIGHTS": "https://example.com/w.tar"})
    assert server.predict()[1]["output"] == "weights=https://example.com/w.tar"


def test_user_healthcheck_false_is_unhealthy(serve):
    server = serve("healthcheck_false", wait=("READY", "UNHEALTHY"))
    health = server.health()
    assert health["status"] == "UNHEALTHY"
    assert health["user_healthcheck_error"] == "Healthcheck failed: user-defined healthcheck returned False"
    assert server.predict()[1]["output"] == "still works"


def test_streaming_not_supported_is_406(serve):
    server = serve("hello")
    status, body = server.predict(headers={"Accept": "text/event-stream"})
    assert status == 406
    assert body == {"error": "This model does not support streaming responses. Add @cog.streaming to predict() "
                             "to enable SSE."}
    status, body = server.predict(path="/trainings", headers={"Accept": "text/event-stream"})
    assert (status, body) == (406, {"error": "Training endpoints do not support streaming responses."})


def test_sse_stream(serve):
    server = serve("output_concatenate")
    status, _, raw, headers = server.request("POST", "/predictions", {"input": {"prompt": "a b"}},
                                             {"Accept": "text/event-stream"})
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    events = [block.split("\n", 1) for block in raw.strip().split("\n\n")]
    names = [e[0] for e in events]
    assert names == ["event: start", "event: output", "event: output", "event: completed"]
    assert events[1][1] == 'data: {"chunk":"a ","index":0}'
    assert events[2][1] == 'data: {"chunk":"b ","index":1}'
    assert '"status":"succeeded"' in events[3][1]


def test_missing_runner_reference_exits_1(server_bin):
    result = subprocess.run([str(server_bin)], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1
    assert "COG_PREDICT_TYPE_STUB" in result.stderr
    result = subprocess.run([str(server_bin), "--x-mode", "train"], env={"PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "COG_TRAIN_TYPE_STUB" in result.stderr


def test_version_flag(server_bin):
    result = subprocess.run([str(server_bin), "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.startswith("cog-server ")


def test_shutdown_endpoint_exits_cleanly(serve):
    server = serve("hello")
    status, body, _, _ = server.request("POST", "/shutdown")
    assert (status, body) == (200, {})
    assert server.process.wait(timeout=20) == 0


def test_sigterm_drains_in_flight_predictions(serve):
    server = serve("sleep")
    result = {}
    thread = threading.Thread(target=lambda: result.update(response=server.predict({"input": {"seconds": 1}})))
    thread.start()
    wait_status(server, "BUSY")
    server.process.terminate()
    thread.join(30)
    assert result["response"][1]["output"] == "awake"
    assert server.process.wait(timeout=20) == 0


def test_await_explicit_shutdown_ignores_sigterm(serve):
    server = serve("hello", args=("--await-explicit-shutdown", "true"))
    server.process.terminate()
    time.sleep(0.3)
    assert server.process.poll() is None
    assert server.predict()[1]["output"] == "hello world"


def test_training_mode(serve):
    server = serve("train_function", args=("--x-mode", "train"), stub_var="COG_TRAIN_TYPE_STUB")
    status, body, _, _ = server.request("GET", "/")
    assert body["trainings_url"] == "/trainings"
    openapi = server.request("GET", "/openapi.json")[1]
    assert "TrainingInput" in openapi["components"]["schemas"]
    status, body = server.predict({"input": {}}, path="/trainings")
    assert status in (200, 422), body


def wait_status(server, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.health()["status"] == wanted:
            return
        time.sleep(0.02)
    raise AssertionError(f"never {wanted}")


def wait_running(server, prediction_id, log_text, timeout=30):
    """Polls the idempotent PUT (which answers 202 with the state of a prediction in flight) until
    the prediction is processing and has logged `log_text`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = server.predict({"input": {}}, path=f"/predictions/{prediction_id}", method="PUT",
                                      headers={"Prefer": "respond-async"})
        if status == 202 and body.get("status") == "processing" and log_text in body.get("logs", ""):
            return
        time.sleep(0.02)
    raise AssertionError(f"{prediction_id} never logged {log_text!r}")
