"""A synchronous prediction is canceled when its HTTP client disconnects (as Cog does: a sync
prediction created without an id cannot be canceled any other way), and the server keeps serving."""
import json
import socket
import time

import pytest

from cog_server_harness import Recorder, Server


@pytest.fixture
def sleeper(server_bin):
    server = Server(server_bin, "sleep")
    server.wait_for("READY")
    hooks = Recorder()
    yield server, hooks
    hooks.close()
    server.shutdown()


def send_and_leave(server, method, path, body, hooks, prediction_id):
    """Sends a sync request, waits until the prediction runs, then closes the connection."""
    data = json.dumps(body).encode()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    hooks.wait_until(lambda seen: any((r["json"] or {}).get("status") == "processing" for r in seen))
    if prediction_id is None:
        prediction_id = next(r["json"]["id"] for r in hooks.requests if r["json"]["status"] == "processing")
    left_at = time.monotonic()
    client.close()
    return prediction_id, left_at


def completed(hooks, prediction_id):
    seen = hooks.wait_until(lambda seen: any((r["json"] or {}).get("id") == prediction_id and
                                             r["json"].get("status") not in ("starting", "processing")
                                             for r in seen), timeout=20)
    return next(r["json"] for r in seen if r["json"]["id"] == prediction_id and
                r["json"]["status"] not in ("starting", "processing"))


@pytest.mark.parametrize("method,path,prediction_id", [("POST", "/predictions", None),
                                                        ("PUT", "/predictions/left-behind", "left-behind")])
def test_disconnect_cancels_the_sync_prediction(sleeper, method, path, prediction_id):
    server, hooks = sleeper
    body = {"input": {"seconds": 30}, "webhook": hooks.url, "webhook_events_filter": ["start", "completed"]}
    prediction_id, left_at = send_and_leave(server, method, path, body, hooks, prediction_id)
    final = completed(hooks, prediction_id)
    assert final["status"] == "canceled", final
    logged = f"canceling prediction {prediction_id}: the client disconnected"
    deadline = time.monotonic() + 20  # the harness reads the server's output on its own thread
    while logged not in server.output and time.monotonic() < deadline:
        time.sleep(0.05)
    assert logged in server.output
    assert time.monotonic() - left_at < 20  # not the 30 s the run would have slept (a loaded machine is slow)
    # The slot is free again: the next prediction runs at once instead of answering 409.
    status, answer = server.predict({"input": {"seconds": 0}})
    assert (status, answer["status"], answer["output"]) == (200, "succeeded", "awake")
    assert server.health()["status"] == "READY"
    assert server.request("POST", f"/predictions/{prediction_id}/cancel")[0] == 404


def test_a_client_that_stays_is_not_canceled(sleeper):
    server, hooks = sleeper
    status, answer = server.predict({"input": {"seconds": 1.5}})
    assert (status, answer["status"], answer["output"]) == (200, "succeeded", "awake")


def test_async_prediction_survives_its_client(sleeper):
    """Prefer: respond-async answers at once; the prediction is not tied to that connection."""
    server, hooks = sleeper
    status, answer = server.predict({"id": "async-1", "input": {"seconds": 1}, "webhook": hooks.url,
                                     "webhook_events_filter": ["completed"]}, headers={"Prefer": "respond-async"})
    assert (status, answer["status"]) == (202, "starting")
    assert completed(hooks, "async-1")["status"] == "succeeded"
