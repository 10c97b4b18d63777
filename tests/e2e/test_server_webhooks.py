"""Async predictions (Prefer: respond-async) observed through webhooks to a local receiver."""
import pytest

from cog_server_harness import Recorder


@pytest.fixture
def receiver():
    recorder = Recorder()
    yield recorder
    recorder.close()


def completed(requests):
    return [r for r in requests if r["json"] and r["json"]["status"] in ("succeeded", "failed", "canceled")]


def test_async_prediction_sends_start_output_completed(serve, receiver):
    server = serve("output_iterator", env={"COG_THROTTLE_RESPONSE_INTERVAL": "0"})
    status, body = server.predict({"id": "w1", "input": {"count": 2}, "webhook": receiver.url + "/hook"},
                                  headers={"Prefer": "respond-async", "traceparent": "00-abc-def-01"})
    assert (status, body) == (202, {"id": "w1", "status": "starting"})
    requests = receiver.wait_until(lambda r: completed(r))
    payloads = [r["json"] for r in requests]
    assert payloads[0]["status"] == "processing"
    assert payloads[-1]["status"] == "succeeded"
    assert payloads[-1]["output"] == ["item 0", "item 1"]
    assert payloads[-1]["id"] == "w1"
    assert isinstance(payloads[-1]["metrics"]["predict_time"], float)
    outputs = [p["output"] for p in payloads if p["status"] == "processing" and "output" in p]
    assert outputs[-1] == ["item 0", "item 1"]
    assert len(completed(requests)) == 1
    for request in requests:
        assert request["path"] == "/hook"
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["headers"]["traceparent"] == "00-abc-def-01"
        assert "Authorization" not in request["headers"]


def test_events_filter_and_bearer_token(serve, receiver):
    server = serve("logs", env={"WEBHOOK_AUTH_TOKEN": "s3cret"})
    status, _ = server.predict({"input": {}, "webhook": receiver.url, "webhook_events_filter": ["completed"]},
                               headers={"Prefer": "respond-async"})
    assert status == 202
    [request] = receiver.wait_until(lambda r: completed(r))
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["json"]["logs"] == "print to stdout\nprint to stderr\nfrom a subprocess\n"
    server.shutdown()
    assert len(receiver.requests) == 1  # nothing but the completed event


def test_terminal_webhook_is_retried(serve):
    receiver = Recorder(statuses=[503, 500])
    try:
        server = serve("hello")
        server.predict({"input": {}, "webhook": receiver.url, "webhook_events_filter": ["completed"]},
                       headers={"Prefer": "respond-async"})
        requests = receiver.wait_until(lambda r: len(r) == 3)
        assert [r["status"] for r in requests] == [503, 500, 200]
        assert all(r["json"]["output"] == "hello world" for r in requests)
    finally:
        receiver.close()


def test_unreachable_webhook_does_not_affect_the_server(serve):
    server = serve("hello", env={"COG_THROTTLE_RESPONSE_INTERVAL": "0"})
    # Only non-terminal events: a failing `completed` would be retried for minutes.
    status, _ = server.predict({"input": {}, "webhook": "http://127.0.0.1:1/nowhere",
                                "webhook_events_filter": ["start", "output", "logs"]},
                               headers={"Prefer": "respond-async"})
    assert status == 202
    server.wait_for("READY")
    assert server.predict()[1]["output"] == "hello world"


def test_async_cancel(serve, receiver):
    server = serve("async_concurrent")
    status, _ = server.predict({"id": "c1", "input": {"seconds": 60}, "webhook": receiver.url},
                               headers={"Prefer": "respond-async"})
    assert status == 202
    receiver.wait_until(lambda r: any(x["json"]["status"] == "processing" for x in r))
    status, body, _, _ = server.request("POST", "/predictions/c1/cancel")
    assert (status, body) == (200, {})
    [final] = completed(receiver.wait_until(lambda r: completed(r)))
    assert final["json"]["status"] == "canceled"
    assert server.health()["status"] == "READY"


def test_invalid_webhook_filter_is_422(serve):
    server = serve("hello")
    status, body = server.predict({"input": {}, "webhook": "http://127.0.0.1:1/", "webhook_events_filter": ["nope"]})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "webhook_events_filter"]


def test_concurrent_async_predictions_share_slots(serve, receiver):
    server = serve("async_concurrent")
    for index in range(8):
        status, _ = server.predict({"id": f"p{index}", "input": {"seconds": 2, "label": str(index)},
                                    "webhook": receiver.url, "webhook_events_filter": ["completed"]},
                                   headers={"Prefer": "respond-async"})
        assert status == 202
    assert server.health()["status"] == "BUSY"
    assert server.predict({"input": {"seconds": 0}})[0] == 409
    requests = receiver.wait_until(lambda r: len(completed(r)) == 8)
    assert sorted(r["json"]["output"] for r in requests) == [f"done {i}" for i in range(8)]
