"""A bounded load test: 2,000 predictions over 8 keep-alive connections against an async runner
with 8 slots, with cancels mixed in, then the worker killed with predictions in flight. Every
prediction must be answered exactly once and nothing may answer 5xx while the worker lives."""
import http.client
import json
import os
import signal
import threading
import time

import pytest

from cog_server_harness import Recorder, Server

CONNECTIONS = 8
PER_CONNECTION = 250
CANCEL_EVERY = 25
RETRIES = 30000  # 409s while canceled predictions release their slots (Cog has no queue): a minute at most
RETRY_PAUSE = 0.002


@pytest.fixture
def server(server_bin):
    server = Server(server_bin, "async_concurrent")
    server.wait_for("READY")
    yield server
    server.shutdown()


def post(connection, path, body, headers=None):
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    connection.request("POST", path, body=json.dumps(body), headers=all_headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def test_load_with_cancels_then_worker_killed(server):
    webhooks = Recorder()
    results = {}
    failures = []

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            for n in range(PER_CONNECTION):
                prediction_id = f"c{index}-{n}"
                if n % CANCEL_EVERY == 0:
                    for _attempt in range(RETRIES):  # a just-canceled prediction may hold its slot briefly
                        status, body = post(connection, "/predictions",
                                            {"id": prediction_id, "input": {"seconds": 30, "label": prediction_id},
                                             "webhook": webhooks.url, "webhook_events_filter": ["completed"]},
                                            {"Prefer": "respond-async"})
                        if status != 409:
                            break
                        time.sleep(RETRY_PAUSE)
                    results.setdefault(prediction_id, []).append((status, body))
                    status, body = post(connection, f"/predictions/{prediction_id}/cancel", {})
                    if (status, body) != (200, {}):
                        failures.append((prediction_id, "cancel", status, body))
                    continue
                for _attempt in range(RETRIES):
                    status, body = post(connection, "/predictions",
                                        {"id": prediction_id, "input": {"seconds": 0, "label": prediction_id}})
                    if status != 409:
                        break
                    time.sleep(RETRY_PAUSE)
                results.setdefault(prediction_id, []).append((status, body))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append((index, repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not failures, failures[:5]
    assert len(results) == CONNECTIONS * PER_CONNECTION
    canceled = set()
    for prediction_id, answers in results.items():
        assert len(answers) == 1, (prediction_id, answers)
        status, body = answers[0]
        if int(prediction_id.split("-")[1]) % CANCEL_EVERY == 0:
            assert (status, body) == (202, {"id": prediction_id, "status": "starting"})
            canceled.add(prediction_id)
        else:
            assert status == 200, (prediction_id, status, body)
            assert (body["id"], body["status"], body["output"]) == (prediction_id, "succeeded", f"done {prediction_id}")

    requests = webhooks.wait_until(lambda r: len(r) >= len(canceled), timeout=60)
    server.wait_for("READY")
    finals = {r["json"]["id"]: r["json"]["status"] for r in requests}
    assert len(requests) == len(canceled)  # exactly one completed webhook each
    assert finals == {prediction_id: "canceled" for prediction_id in canceled}
    webhooks.close()

    # Phase 2: kill the worker with all 8 slots busy. Each request still gets exactly one answer.
    answers = []

    def doomed(index):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            answers.append(post(connection, "/predictions", {"id": f"doomed-{index}", "input": {"seconds": 30}}))
        finally:
            connection.close()

    threads = [threading.Thread(target=doomed, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    server.wait_for("BUSY")
    os.kill(server.worker_pid(), signal.SIGKILL)
    for thread in threads:
        thread.join(60)
    assert len(answers) == CONNECTIONS
    for status, body in answers:
        assert status == 200 and body["status"] == "failed", body
        assert "killed by signal 9" in body["error"]
    assert server.health()["status"] == "DEFUNCT"
    assert server.predict()[0] == 503
