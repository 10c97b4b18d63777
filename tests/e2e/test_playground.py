"""`cog playground` and `cog serve --playground`: the page driven in headless Chromium (selenium)
against a real `cog serve --local` of the playground fixtures, and the proxy and webhook sink
checked over plain HTTP. Screenshots of each step go to <build>/playground-screenshots/.
Over 400 lines: one scenario per test, all sharing the served fixtures and the browser."""
import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import http.server as http_server

import pytest

from cog_server_harness import FIXTURES, Server, free_port

BUILD_DIR = pathlib.Path(os.environ.get("COG_BUILD_DIR", pathlib.Path(__file__).resolve().parents[2] / "build"))
SHOTS = BUILD_DIR / "playground-screenshots"


def environ_without_cog_settings():
    return {k: v for k, v in os.environ.items() if not k.startswith("COG_") or k.endswith("_BIN")}


def http(method, url, body=None, headers=None, timeout=30):
    """(status, parsed JSON or text) of one request; HTTP errors are answers too."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def wait_until(check, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class FakeTarget(http_server.BaseHTTPRequestHandler):
    """A stand-in for a Cog server the playground proxies to: READY on every GET but the schema,
    JSON answers; tests subclass it for how predictions go."""
    schema = {"openapi": "3.0.2", "paths": {"/predictions": {}}, "components": {"schemas": {
        "Input": {"type": "object", "properties": {"text": {"type": "string", "default": "hi"}}},
        "Output": {"type": "string"}}}}
    content_type = "application/json"

    def reply(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def request_body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def do_GET(self):  # noqa: N802
        self.reply(200, self.schema if self.path == "/openapi.json" else {"status": "READY"})

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(handler):
    """Runs `handler` on a free loopback port; yields its base URL."""
    server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class Served:
    """`cog serve --local --playground` of one fixture, with the page's URL."""

    def __init__(self, cog_bin, fixture, workdir):
        project = workdir / fixture
        shutil.copytree(FIXTURES / fixture, project)
        self.port, self.playground_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [str(cog_bin), "serve", "--local", "-p", str(self.port), "--playground", "--playground-port",
             str(self.playground_port)], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=environ_without_cog_settings())
        self.output = []
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.playground_port}/"
        wait_until(lambda: self.process.poll() is None and http("GET", self.url + "api/health-check")[1].get("status")
                   == "READY", what=f"{fixture} to be READY behind the playground")

    def stop(self):
        """SIGTERM, as Ctrl-C: the server and the playground's thread end, and cog exits 0."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("cog serve --playground did not end on SIGTERM")
        assert code == 0, "".join(line.decode("utf-8", "replace") for line in self.output)
        assert f"Playground at http://127.0.0.1:{self.playground_port}/" in b"".join(self.output).decode()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("playground")


@pytest.fixture(scope="module")
def image_model(cog_bin, workdir):
    served = Served(cog_bin, "playground_image", workdir)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def stream_model(cog_bin, workdir):
    served = Served(cog_bin, "playground_stream", workdir)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-deps.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1700"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name):
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def find(driver, css, timeout=30):
    from selenium.webdriver.common.by import By

    try:
        return wait_until(lambda: (driver.find_elements(By.CSS_SELECTOR, css) or [None])[0], timeout, f"element {css}")
    except AssertionError:
        shot(driver, "failed-" + re.sub(r"[^a-z0-9]+", "-", css.lower()).strip("-"))
        page = driver.find_element(By.CSS_SELECTOR, "body").text
        raise AssertionError(f"timed out waiting for {css}; the page says:\n{page}") from None


def status_text(driver):
    return find(driver, "#status").text


def open_page(driver, url):
    driver.get(url)
    find(driver, "#form .field")


def set_value(driver, css, value):
    element = find(driver, css)
    element.clear()
    element.send_keys(str(value))


def test_form_is_built_from_the_schema(browser, image_model):
    open_page(browser, image_model.url)
    assert find(browser, "#in-prompt").tag_name == "textarea"
    assert find(browser, '[data-field="prompt"] .required')  # no default: required, starred
    assert not browser.find_elements("css selector", '[data-field="width"] .required')
    assert find(browser, "#range-brightness").get_attribute("type") == "range"
    assert find(browser, "#in-width").get_attribute("max") == "512"
    assert find(browser, "#in-color").tag_name == "select"
    assert [o.text for o in find(browser, "#in-color").find_elements("css selector", "option")] == ["red", "green", "blue"]
    assert find(browser, "#in-style").tag_name == "select"
    assert find(browser, "#in-invert").get_attribute("type") == "checkbox"
    assert find(browser, "#in-tags").get_attribute("value") == "demo"
    assert find(browser, "#in-mask").get_attribute("type") == "file"
    assert find(browser, "#in-seed").get_attribute("type") == "number"
    assert "Width in pixels" in find(browser, '[data-field="width"]').text
    order = [f.get_attribute("data-field") for f in browser.find_elements("css selector", "#form .field")]
    assert order == ["prompt", "width", "height", "brightness", "color", "invert", "style", "tags", "seed", "mask"]
    shot(browser, "01-form")


def test_runs_with_an_uploaded_file_and_shows_the_image(browser, image_model, tmp_path):
    open_page(browser, image_model.url)
    set_value(browser, "#in-prompt", "a blue box")
    set_value(browser, "#in-width", 40)
    set_value(browser, "#in-height", 20)
    from selenium.webdriver.support.ui import Select

    Select(find(browser, "#in-color")).select_by_visible_text("blue")
    upload = tmp_path / "mask.bin"
    upload.write_bytes(bytes(range(256)) * 5)
    find(browser, "#in-mask").send_keys(str(upload))
    find(browser, '[data-field="mask"][data-ready="1"]')
    shot(browser, "02-filled")
    find(browser, "#run").click()
    image = find(browser, "#output img.output-image")
    wait_until(lambda: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image),
               what="the output image to load")
    size = browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image)
    assert size == [40, 20]
    wait_until(lambda: status_text(browser).startswith("succeeded"), what="succeeded")
    assert "mask has 1280 bytes" in find(browser, "#logs").get_attribute("textContent")
    request = find(browser, "#inspect-request").get_attribute("textContent")
    assert f"POST http://127.0.0.1:{image_model.port}/predictions" in request
    assert '"color": "blue"' in request
    curl = find(browser, "#inspect-curl").get_attribute("textContent")
    assert curl.startswith(f"curl -s -X POST 'http://127.0.0.1:{image_model.port}/predictions'")
    assert "HTTP 200" in find(browser, "#inspect-response").get_attribute("textContent")
    shot(browser, "03-image-output")
    find(browser, "#inspector summary").click()
    shot(browser, "04-inspector")
    # A second run, then the first one again from the history.
    set_value(browser, "#in-width", 10)
    find(browser, "#run").click()
    wait_until(lambda: len(browser.find_elements("css selector", "#history li")) == 2
               and status_text(browser).startswith("succeeded"), what="the second run")
    natural_width = "return document.querySelector('#output img').naturalWidth"
    wait_until(lambda: browser.execute_script(natural_width) == 10, what="the second image")
    find(browser, "#history li:last-child button").click()
    wait_until(lambda: browser.execute_script(natural_width) == 40, what="the first run's image from the history")


def test_a_dropped_file_is_sent_and_a_too_large_one_refused(browser, image_model):
    open_page(browser, image_model.url)
    set_value(browser, "#in-prompt", "dropped")
    drop = """const [selector, size] = arguments;
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(size)], "dropped.bin"));
        document.querySelector(selector).dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));"""
    browser.execute_script(drop, '[data-field="mask"] .drop', 64 * 1024 * 1024)
    error = find(browser, '[data-field="mask"] .field-error:not([hidden])')
    assert "64 MiB" in error.text
    browser.execute_script(drop, '[data-field="mask"] .drop', 777)
    find(browser, '[data-field="mask"][data-ready="1"]')
    assert "dropped.bin (777 bytes)" in find(browser, '[data-field="mask"]').text
    find(browser, "#run").click()
    wait_until(lambda: status_text(browser).startswith("succeeded"), what="succeeded")
    assert "mask has 777 bytes" in find(browser, "#logs").get_attribute("textContent")


def test_a_422_lands_on_its_field(browser, image_model):
    open_page(browser, image_model.url)
    find(browser, "#novalidate").click()
    set_value(browser, "#in-prompt", "too wide")
    set_value(browser, "#in-width", 9999)
    find(browser, "#run").click()
    error = find(browser, '[data-field="width"] .field-error:not([hidden])')
    assert "512" in error.text, f"the width field shows the server's message: {error.text!r}"
    assert "invalid" in status_text(browser)
    assert browser.find_elements("css selector", '[data-field="height"] .field-error:not([hidden])') == []
    shot(browser, "05-422-on-field")


def test_async_stream_grows_through_the_webhook_sink(browser, stream_model):
    open_page(browser, stream_model.url)
    set_value(browser, "#in-text", "one two three four five six")
    set_value(browser, "#in-delay", 0.5)
    find(browser, "#async").click()
    find(browser, "#run").click()
    counts = []

    def items():
        count = len(browser.find_elements("css selector", "#output .output-list li"))
        if not counts or counts[-1] != count:
            counts.append(count)
        return status_text(browser).startswith("succeeded") and count == 6

    wait_until(items, timeout=60, what="six streamed words")
    assert len([c for c in counts if 0 < c < 6]) >= 2, f"the output grew in steps: {counts}"
    assert find(browser, "#output").text.split() == ["one", "two", "three", "four", "five", "six"]
    assert "word six" in find(browser, "#logs").get_attribute("textContent")
    shot(browser, "06-stream-done")


def test_cancel_a_long_prediction(browser, stream_model):
    open_page(browser, stream_model.url)
    set_value(browser, "#in-repeat", 200)
    set_value(browser, "#in-delay", 0.3)
    find(browser, "#async").click()
    find(browser, "#run").click()
    find(browser, "#output .output-list li")
    shot(browser, "07-before-cancel")
    find(browser, "#cancel").click()
    wait_until(lambda: status_text(browser).startswith("canceled"), timeout=30, what="canceled")
    assert len(browser.find_elements("css selector", "#output .output-list li")) < 600
    assert find(browser, "#cancel").get_attribute("disabled") is not None
    shot(browser, "08-canceled")


def test_sync_prediction_can_be_canceled(browser, stream_model):
    open_page(browser, stream_model.url)
    set_value(browser, "#in-repeat", 200)
    find(browser, "#run").click()
    wait_until(lambda: find(browser, "#cancel").get_attribute("disabled") is None, what="cancel enabled")
    time.sleep(1)
    find(browser, "#cancel").click()
    wait_until(lambda: status_text(browser).startswith("canceled"), timeout=30, what="canceled")


def test_trainings_tab(browser, server_bin, playground_for):
    server = Server(server_bin, "train_class", env={"COG_TRAIN_TYPE_STUB": "train.py:Trainer"}, args=["--x-mode", "train"],
                    stub_var="COG_TRAIN_TYPE_STUB")
    try:
        server.wait_for("READY")
        playground = playground_for(f"http://127.0.0.1:{server.port}", "--webhook-host", "127.0.0.1")
        open_page(browser, playground.url)
        assert "active" in find(browser, "#tab-trainings").get_attribute("class")
        assert find(browser, "#form-title").text == "Training input"
        assert "null" not in find(browser, '[data-field="epochs"]').text  # no description, and none shown
        assert browser.find_elements("css selector", '[data-field="epochs"] .description') == []
        set_value(browser, "#in-epochs", 3)
        find(browser, "#async").click()
        find(browser, "#run").click()
        wait_until(lambda: status_text(browser).startswith("succeeded"), what="the training to succeed")
        link = find(browser, "#output a.output-file")
        assert link.get_attribute("href").startswith("data:text/plain")
        assert "POST http://127.0.0.1:%d/trainings" % server.port in find(browser, "#inspect-request").get_attribute(
            "textContent")
        shot(browser, "10-training")
    finally:
        server.shutdown()


def test_outputs_render_by_kind(browser, image_model):
    """The page's renderer on each kind of output Cog returns (run in the page on crafted values)."""
    open_page(browser, image_model.url)
    pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
    cases = {
        "image": ([pixel], "IMG", "output-image"),
        "http image": (["https://example.com/a/out.webp?x=1"], "IMG", "output-image"),
        "audio": (["data:audio/wav;base64,UklGRg=="], "AUDIO", "output-audio"),
        "video": (["https://example.com/clip.mp4"], "VIDEO", "output-video"),
        "file": (["data:application/zip;base64,UEsDBA=="], "A", "output-file"),
        "text": (["hello"], "PRE", "output-text"),
        "number": ([3.5], "PRE", "output-text"),
        "json": ([{"a": [1, 2]}], "PRE", "output-json"),
        "gallery": ([[pixel, pixel]], "DIV", "gallery"),
        "list": ([["x", 1]], "OL", "output-list"),
        "concatenated": ([["to", "ken"], {"x-cog-array-display": "concatenate"}], "PRE", "output-text"),
    }
    for name, (args, tag, css) in cases.items():
        node = browser.execute_script("const n = renderValue(...arguments); return [n.tagName, n.className, n.textContent];",
                                      *args)
        assert node[:2] == [tag, css], (name, node)
    assert browser.execute_script('return renderValue(["to", "ken"], {"x-cog-array-display": "concatenate"}).textContent') \
        == "token"
    assert browser.execute_script("return renderValue({a: [1, 2]}).textContent") == '{\n  "a": [\n    1,\n    2\n  ]\n}'


def test_a_webhook_host_the_model_cannot_reach_is_explained(browser, server_bin, playground_for):
    server = Server(server_bin, "playground_stream")
    try:
        server.wait_for("READY")
        playground = playground_for(f"http://127.0.0.1:{server.port}", "--webhook-host", "nowhere.invalid")
        open_page(browser, playground.url)
        set_value(browser, "#in-delay", 0)
        find(browser, "#async").click()
        find(browser, "#run").click()
        wait_until(lambda: "No webhook has arrived" in find(browser, "#error").text, timeout=40, what="the hint")
        assert "http://nowhere.invalid:%d/webhook" % playground.port in find(browser, "#error").text
        assert "--webhook-host" in find(browser, "#error").text
        shot(browser, "11-no-webhook")
    finally:
        server.kill()  # a graceful shutdown would wait for its terminal webhook's retries to nowhere


# ---- the proxy and the webhook sink, over plain HTTP ---------------------------------------------


class Playground:
    """`cog playground --no-open -p 0` against `target`; the URL it prints."""

    def __init__(self, cog_bin, target, *args):
        self.process = subprocess.Popen([str(cog_bin), "playground", "--no-open", "-p", "0", "--target", target, *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:(\d+)/)", line)
        assert match, f"no URL in {line!r}: {self.process.stderr.read() if self.process.poll() is not None else ''}"
        self.url, self.port = match.group(1), int(match.group(2))

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def playground_for(cog_bin):
    started = []

    def start(target, *args):
        started.append(Playground(cog_bin, target, *args))
        return started[-1]

    yield start
    for playground in started:
        playground.stop()


def test_proxy_forwards_only_cog_api_calls(image_model):
    status, body = http("GET", image_model.url + "api/openapi.json")
    assert status == 200 and "/predictions" in body["paths"]
    for method, path in (("POST", "api/shutdown"), ("GET", "api/predictions/../../etc/passwd"), ("DELETE", "api/predictions"),
                         ("GET", "api//example.com/")):
        status, body = http(method, image_model.url + path, body=b"{}" if method == "POST" else None,
                            headers={"Content-Type": "application/json"} if method == "POST" else None)
        assert status == 404 and "error" in body, (method, path, body)
    # What another site's <form> can send (no JSON type), even from a browser sending no Origin.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        status, body = http("POST", image_model.url + "api/predictions", body=b'{"input": {"prompt": "csrf"}}',
                            headers={"Content-Type": content_type})
        assert status == 415 and "application/json" in body["error"], (content_type, body)
    status, body = http("PUT", image_model.url + "api/predictions/..", body=b"{}",
                        headers={"Content-Type": "application/json"})
    assert status == 404, body
    status, body = http("POST", image_model.url + "api/predictions", body={"input": {"prompt": "csrf"}},
                        headers={"Content-Type": "application/json", "Origin": "http://evil.example"})
    assert status == 403 and "another site" in body["error"]
    status, body = http("GET", image_model.url + "api/openapi.json", headers={"Host": f"rebound.example:{image_model.playground_port}"})
    assert status == 403 and "loopback" in body["error"]
    # An absolute-form request target names a host: it is not a path the proxy forwards.
    with socket.create_connection(("127.0.0.1", image_model.playground_port), timeout=10) as raw:
        raw.sendall(b"GET http://example.com/api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := raw.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404"), reply[:200]
    config = http("GET", image_model.url + "playground/config")[1]
    assert config["target"] == f"http://127.0.0.1:{image_model.port}"
    assert re.fullmatch(f"http://127.0.0.1:{image_model.playground_port}/webhook/[0-9a-f]{{32}}", config["webhook_url"])


def test_proxy_caps_request_bodies(image_model):
    status, body = http("POST", image_model.url + "api/predictions", body=b"x" * (64 * 1024 * 1024 + 1),
                        headers={"Content-Type": "application/json"}, timeout=120)
    assert status == 413 and "larger than" in body["error"]


def webhook_sink(base):
    """The playground's webhook URL (it holds a random token), reached through `base`."""
    url = http("GET", base + "playground/config")[1]["webhook_url"]
    return base + url[url.index("/webhook/") + 1:]


def test_webhook_sink_relays_to_sse_and_caps_bodies(image_model):
    base = image_model.url
    sink = webhook_sink(base)
    status, body = http("POST", base + "webhook", body={"id": "sink-1", "status": "succeeded"},
                        headers={"Content-Type": "application/json"})
    assert status == 403 and "/playground/config" in body["error"]  # only a sender told the token
    assert http("POST", sink, body=b"not json")[0] == 400
    assert http("POST", sink, body=b'{"id":"' + b"x" * (16 * 1024 * 1024) + b'"}')[0] == 413
    for state in ({"id": "sink-1", "status": "processing"}, {"id": "sink-1", "status": "succeeded", "output": "ok"}):
        assert http("POST", sink, body=state)[0] == 200
    with urllib.request.urlopen(base + "events/sink-1", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = response.read().decode()  # the stream ends after the terminal state
    events = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
    assert [e["status"] for e in events] == ["processing", "succeeded"]


def test_target_down_is_a_clear_error(cog_bin, playground_for, browser):
    playground = playground_for(f"http://127.0.0.1:{free_port()}")
    status, body = http("GET", playground.url + "api/openapi.json")
    assert status == 502 and "cannot reach the Cog server" in body["error"]
    browser.get(playground.url)
    banner = find(browser, "#banner:not([hidden])")
    assert "cannot reach the Cog server" in banner.text
    assert find(browser, "#run").get_attribute("disabled") is not None
    shot(browser, "09-target-down")


def test_the_page_recovers_when_the_model_comes_up(browser, server_bin, playground_for):
    port = free_port()
    playground = playground_for(f"http://127.0.0.1:{port}")
    browser.get(playground.url)
    find(browser, "#banner:not([hidden])")
    server = Server(server_bin, "playground_stream", env={"PORT": str(port)})
    try:
        find(browser, "#in-text", timeout=60)  # the health poll saw READY and read the schema
        assert find(browser, "#banner").get_attribute("hidden") is not None
        assert find(browser, "#run").get_attribute("disabled") is None
    finally:
        server.kill()


def test_target_that_is_not_cog_is_a_clear_error(playground_for, tmp_path):
    (tmp_path / "openapi.json").write_text("<html>hello</html>")
    handler = lambda *a, **k: http_server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    with serving(handler) as target:
        playground = playground_for(target)
        status, body = http("GET", playground.url + "api/openapi.json")
        assert status == 502 and "does not answer like a Cog server" in body["error"], body


def test_refuses_targets_it_cannot_proxy(cog_bin):
    for target in ("https://example.com", "ftp://x", "http://host/?q=1"):
        result = subprocess.run([str(cog_bin), "playground", "--no-open", "--target", target], capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 1 and "--target" in result.stderr, result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="running images needs root")
def test_serve_playground_in_a_container_gets_webhooks_through_host_docker_internal(cog_bin, workdir):
    """The image path of `cog serve --playground`: the container's server reaches the playground's
    webhook sink as host.docker.internal (the default --webhook-host); followed here as the page does."""
    project = workdir / "container_stream"
    shutil.copytree(FIXTURES / "playground_stream", project)
    port, playground_port = free_port(), free_port()
    process = subprocess.Popen([str(cog_bin), "serve", "-p", str(port), "--progress", "quiet", "--playground",
                                "--playground-port", str(playground_port)], cwd=project, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=environ_without_cog_settings())
    base = f"http://127.0.0.1:{playground_port}/"
    try:
        wait_until(lambda: process.poll() is None and http("GET", base + "api/health-check")[1].get("status") == "READY",
                   timeout=600, what="the container's server behind the playground")
        config = http("GET", base + "playground/config")[1]
        assert re.fullmatch(f"http://host.docker.internal:{playground_port}/webhook/[0-9a-f]{{32}}", config["webhook_url"])
        body = {"id": "in-container", "input": {"text": "a b c", "delay": 0.1}, "webhook": config["webhook_url"]}
        status, answer = http("POST", base + "api/predictions", body=body,
                              headers={"Content-Type": "application/json", "Prefer": "respond-async"})
        assert status == 202, answer
        with urllib.request.urlopen(base + "events/in-container", timeout=60) as response:
            text = response.read().decode()
        states = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
        assert states[-1]["status"] == "succeeded", states
        assert states[-1]["output"] == ["a ", "b ", "c "]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_hostile_schema_and_output_stay_text(browser, playground_for):
    """Markup in a schema's titles, descriptions and enum values, and in outputs, logs and errors,
    is shown as text: no script of the model's runs in the page, and no javascript: link appears."""
    payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
    hostile_schema = {"openapi": "3.0.2", "paths": {"/predictions": {}}, "components": {"schemas": {
        "Input": {"type": "object", "properties": {
            "text": {"type": "string", "title": payload, "description": payload, "default": payload, "x-order": 0},
            "mode": {"allOf": [{"$ref": "#/components/schemas/mode"}], "x-order": 1, "default": payload},
            "loop": {"$ref": "#/components/schemas/loop", "x-order": 2},  # a $ref cycle
            "odd": {"anyOf": [None, {"type": "null"}, {"type": "string"}], "x-order": 3}},
            "required": []},
        "mode": {"title": payload, "enum": [payload, "plain"], "type": "string"},
        "loop": {"$ref": "#/components/schemas/loop"},
        "Output": {"type": "array", "items": {"type": "string"}}}}}
    answer = {"status": "succeeded", "logs": payload, "error": None, "metrics": {"predict_time": 0.1},
              "output": ["javascript:window.pwned=1", payload, "data:text/html,<script>window.pwned=1</script>"]}

    class Hostile(FakeTarget):
        schema = hostile_schema
        content_type = "text/html"  # the proxy answers JSON regardless

        def do_POST(self):  # noqa: N802
            self.request_body()
            self.reply(200, {**answer, "id": "x"})

    with serving(Hostile) as target:
        playground = playground_for(target)
        status, body = http("GET", playground.url + "api/health-check")
        assert status == 200 and body == {"status": "READY"}
        open_page(browser, playground.url)
        assert payload in find(browser, '[data-field="text"] label').text
        assert payload in find(browser, '[data-field="text"] .description').text
        assert find(browser, "#in-text").get_attribute("value") == payload
        assert find(browser, '[data-field="loop"]') and find(browser, '[data-field="odd"]')
        options = [o.text for o in browser.find_elements("css selector", "#in-mode option")]
        assert payload in options
        find(browser, "#run").click()
        wait_until(lambda: status_text(browser).startswith("succeeded"), 30, "the run to finish")
        assert payload in find(browser, "#logs").text
        assert payload in find(browser, "#output").text
        shot(browser, "hostile-schema-and-output")
        links = [a.get_attribute("href") or "" for a in browser.find_elements("css selector", "a")]
        assert not [h for h in links if h.lower().startswith("javascript:")], links
        assert not browser.find_elements("css selector", "#form img, #output img[src='x'], #logs img")
        assert browser.execute_script("return window.pwned") is None


def test_async_runs_whose_webhooks_never_come_do_not_stall_the_page(browser, playground_for):
    """Each async run follows its webhooks over one SSE connection, and a browser keeps about six
    per host: runs whose webhooks never arrive must not take them all (the page would hang)."""

    class Silent(FakeTarget):
        def do_POST(self):  # noqa: N802
            body = self.request_body()
            self.reply(202, {"id": body.get("id"), "status": "starting"})  # and never a webhook

    with serving(Silent) as target:
        playground = playground_for(target)
        open_page(browser, playground.url)
        find(browser, "#async").click()
        for run in range(8):
            find(browser, "#run").click()
            wait_until(lambda: find(browser, "#inspect-response").get_attribute("textContent").startswith("HTTP 202"),
                       20, f"async run {run + 1} to be answered")
        open_streams = browser.execute_script("return state.history.filter((e) => e.source).length")
        assert open_streams <= 3, open_streams
        # An older run, chosen again, is followed again (the sink replays its webhooks).
        browser.find_elements("css selector", "#history button")[-1].click()
        assert browser.execute_script("return state.current.source !== null && state.current.source !== undefined")
        # A webhook whose error is not a string (an odd server) still updates the page.
        run_id = browser.execute_script("return state.current.id")
        assert http("POST", webhook_sink(playground.url), body={"id": run_id, "status": "processing",
                                                              "error": {"code": 1}})[0] == 200
        wait_until(lambda: status_text(browser).startswith("processing"), 10, "the webhook to be shown")


def test_closing_the_page_cancels_its_unfinished_run(browser, playground_for):
    """A synchronous run holds the proxy's request (and the model) until it ends: a page that goes
    away mid-run cancels it rather than leave the model busy for nobody."""
    canceled = []
    release = threading.Event()

    class Slow(FakeTarget):
        def do_POST(self):  # noqa: N802
            self.request_body()
            if self.path.endswith("/cancel"):
                canceled.append(self.path)
                release.set()
                return self.reply(200, {})
            release.wait(60)  # a prediction that runs until it is canceled
            self.reply(200, {"status": "canceled", "output": None})

    with serving(Slow) as target:
        try:
            playground = playground_for(target)
            open_page(browser, playground.url)
            find(browser, "#run").click()
            run_id = wait_until(lambda: browser.execute_script("return state.current && state.current.id"), 10, "a run")
            browser.get("about:blank")
            wait_until(lambda: canceled, 10, "the run to be canceled as the page went away")
            assert canceled == [f"/predictions/{run_id}/cancel"]
        finally:
            release.set()  # before the server stops: its handler may still be waiting
