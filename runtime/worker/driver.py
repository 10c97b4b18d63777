# The Python half of cog-worker, embedded into the binary at build time. The C++ host (the `host`
# argument of main) owns the control socket, output capture and cancel signals; this module drives
# the SDK's cog._worker.Runner. Frames are described in runtime/worker/PROTOCOL.md.
# asyncio is imported only for async runners (inside the functions that need it): it is the
# largest import of a sync worker's start-up.
# One file of about 430 lines because the binary embeds it as one source string
# (runtime/CMakeLists.txt reads it whole); most of it is _Worker, the handling of each frame type.
import contextvars
import functools
import inspect
import json
import os
import platform
import sys
import time
import traceback

_current_id = contextvars.ContextVar("cog_prediction_id", default=None)


class _Binary:
    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass


class _LogWriter:
    """sys.stdout / sys.stderr. Whole lines become log frames of the running prediction (the
    async task's own, or the sync one), or setup/worker output outside predictions. The host
    first hands over any bytes subprocesses left in the captured fds, so order is kept."""

    encoding = "utf-8"
    errors = "replace"
    closed = False

    def __init__(self, host, source, fd):
        self._host = host
        self._source = source
        self._fd = fd
        self._partial = {}  # prediction id (None outside async tasks) -> unterminated text
        self.buffer = _Binary(self)

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        key = _current_id.get()
        pending = self._partial.pop(key, "") + text
        head, newline, tail = pending.rpartition("\n")
        if newline:
            self._host.log(self._source, head + newline, key)
        if tail:
            self._partial[key] = tail
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        key = _current_id.get()
        pending = self._partial.pop(key, "")
        if pending:
            self._host.log(self._source, pending, key)

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False


def _flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _dumps(message):
    return json.dumps(message, separators=(",", ":"), default=str, allow_nan=False)


def _error_text(exc):
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class _Worker:
    def __init__(self, host, runner, upload_url, sdk):
        self.host = host
        self.runner = runner
        self.upload_url = upload_url or None
        self.sdk = sdk
        self.tasks = {}
        self.early_cancels = set()
        self.serving = None  # async runners: the future serve_async waits on

    def send(self, message):
        self.host.send(_dumps(message))

    # -- one prediction, in phases shared by the sync and async paths --------------------------

    def prepare(self, frame):
        """Validated kwargs, or None after reporting why the input was refused."""
        prediction_id = frame["id"]
        try:
            return self.runner.validate_and_prepare(frame.get("input") or {}, prediction_id)
        except self.sdk.CancelationException:  # also while file inputs download
            self.send({"type": "done", "id": prediction_id, "status": "canceled", "predict_time": 0.0})
        except Exception as exc:
            self.refuse(prediction_id, exc)
        return None

    async def prepare_async(self, frame):
        """The same off the event loop while file inputs download; task.cancel() stops them
        (asyncio.CancelledError propagates to predict_async)."""
        try:
            return await self.runner.validate_and_prepare_async(frame.get("input") or {}, frame["id"])
        except Exception as exc:
            self.refuse(frame["id"], exc)
        return None

    def refuse(self, prediction_id, exc):
        if isinstance(exc, self.sdk.InputError):
            errors = exc.args[0] if exc.args else []
            self.send({"type": "invalid", "id": prediction_id, "detail": list(errors)})
            return
        # FileInputError and anything else: the input cannot be used
        print(f"Failed to prepare input: {exc}", file=sys.stderr)
        _flush_output()
        self.host.drain()
        self.send({"type": "rejected", "id": prediction_id, "error": str(exc)})

    def on_output(self, prediction_id):
        def send_item(item):  # items arrive encoded (files uploaded or turned into data URLs)
            self.send({"type": "output", "id": prediction_id, "item": item})

        return send_item

    def on_metric(self, prediction_id):
        def send_metric(name, value, mode="replace"):
            self.send({"type": "metric", "id": prediction_id, "name": name, "value": value,
                       "mode": mode})

        return send_metric

    def cleanup(self, prediction_id):
        try:
            self.runner.cleanup(prediction_id)
        except Exception:
            traceback.print_exc()

    # -- sync runners: one prediction at a time on the main thread ------------------------------

    def predict_sync(self, frame):
        prediction_id = frame["id"]
        self.host.set_active(prediction_id)
        done = None
        started = None
        scope = None
        try:
            if self.host.take_cancel(prediction_id):
                raise self.sdk.CancelationException()
            with self.sdk.prediction_scope(frame.get("context") or {}, self.on_metric(prediction_id)) as scope:
                kwargs = self.prepare(frame)
                if kwargs is None:
                    return
                self.send({"type": "started", "id": prediction_id})
                started = time.perf_counter()
                result = self.runner.run(kwargs, self.on_output(prediction_id), self.upload_url,
                                         prediction_id)
                output = self.runner.encode_output(result, self.upload_url, prediction_id)
                done = {"status": "succeeded", "output": output}
        except self.sdk.CancelationException:
            done = {"status": "canceled"}
        except BaseException as exc:  # SystemExit and KeyboardInterrupt only fail this prediction
            traceback.print_exc()
            done = {"status": "failed", "error": _error_text(exc)}
        finally:
            self.cleanup(prediction_id)
            _flush_output()
            self.host.drain()  # output still in the pipes belongs to this prediction
            self.host.clear_active(prediction_id)
            self._absorb_late_cancel()
            if done is not None:
                self._finish(prediction_id, done, started, scope)

    def _finish(self, prediction_id, done, started, scope):
        done["type"] = "done"
        done["id"] = prediction_id
        done["predict_time"] = time.perf_counter() - started if started else 0.0
        metrics = _snapshot(scope)
        if metrics is not None:
            done["metrics"] = metrics
        self._send_done(done)

    def _absorb_late_cancel(self):
        # A cancel that raced with the end of run() may still be pending in the interpreter.
        try:
            self.host.check_signals()
        except self.sdk.CancelationException:
            pass

    def _send_done(self, done):
        try:
            self.send(done)
        except (TypeError, ValueError) as exc:
            self.send({"type": "done", "id": done["id"], "status": "failed",
                       "error": f"output is not JSON-serialisable: {exc}",
                       "predict_time": done.get("predict_time", 0.0)})

    def serve_sync(self):
        while True:
            raw = self.host.next_frame()
            if raw is None:
                return
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "predict":
                self.predict_sync(frame)
            elif kind == "shutdown":
                return

    # -- async runners: concurrent tasks on one event loop ---------------------------------------

    async def predict_async(self, frame):
        import asyncio

        prediction_id = frame["id"]
        _current_id.set(prediction_id)
        self.host.set_active(prediction_id)
        done = None
        started = None
        scope = None
        try:
            with self.sdk.prediction_scope(frame.get("context") or {}, self.on_metric(prediction_id)) as scope:
                kwargs = await self.prepare_async(frame)
                if kwargs is None:
                    return
                self.send({"type": "started", "id": prediction_id})
                started = time.perf_counter()
                result = await self.runner.run_async(kwargs, self.on_output(prediction_id),
                                                     self.upload_url, prediction_id)
                output = self.runner.encode_output(result, self.upload_url, prediction_id)
                done = {"status": "succeeded", "output": output}
        except (asyncio.CancelledError, self.sdk.CancelationException):
            done = {"status": "canceled"}
        except BaseException as exc:
            traceback.print_exc()
            done = {"status": "failed", "error": _error_text(exc)}
        finally:
            # A second cancel landing in this await ends the task early: task_finished then
            # reports it, which is why the task stays registered until the very end.
            self.cleanup(prediction_id)
            _flush_output()
            if self.host.output_pending():  # drain() may block: keep the loop free meanwhile
                await asyncio.get_running_loop().run_in_executor(None, self.host.drain)
            self.host.clear_active(prediction_id)
            self.tasks.pop(prediction_id, None)
            if done is not None:
                done.update({"type": "done", "id": prediction_id,
                             "predict_time": time.perf_counter() - started if started else 0.0})
                metrics = _snapshot(scope)
                if metrics is not None:
                    done["metrics"] = metrics
                self._send_done(done)

    def task_finished(self, prediction_id, task):
        # A task canceled before its first step never runs predict_async's `finally`.
        if task.cancelled() and self.tasks.pop(prediction_id, None) is not None:
            self.host.clear_active(prediction_id)
            self.send({"type": "done", "id": prediction_id, "status": "canceled", "predict_time": 0.0})

    async def serve_async(self):
        import asyncio

        # Frames are taken on the loop's own thread when the host's eventfd says some wait: no
        # thread-pool round trip per frame.
        loop = asyncio.get_running_loop()
        self.serving = loop.create_future()  # set when the supervisor is gone or says shutdown
        fd = self.host.frame_fd()
        loop.add_reader(fd, self.on_frames, loop)
        try:
            await self.serving
        finally:
            loop.remove_reader(fd)
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def on_frames(self, loop):
        if self.serving.done():
            return
        try:
            frames = self.host.take_frames()
            if frames is None:
                self.serving.set_result(None)
                return
            for raw in frames:
                if not self.dispatch_async(loop, json.loads(raw)):
                    self.serving.set_result(None)  # frames after shutdown are not served
                    return
        except Exception as exc:  # ends serve_async with it, as when frames were awaited there
            self.serving.set_exception(exc)

    def dispatch_async(self, loop, frame):
        """Acts on one frame; False once it says shutdown."""
        kind = frame.get("type")
        if kind == "predict":
            if frame["id"] in self.early_cancels:
                self.early_cancels.discard(frame["id"])
                self.send({"type": "done", "id": frame["id"], "status": "canceled",
                           "predict_time": 0.0})
                return True
            task = loop.create_task(self.predict_async(frame), context=contextvars.Context())
            self.tasks[frame["id"]] = task
            task.add_done_callback(functools.partial(self.task_finished, frame["id"]))
        elif kind == "cancel":
            task = self.tasks.get(frame["id"])
            if task is not None:
                task.cancel()
            elif len(self.early_cancels) < 4096:
                self.early_cancels.add(frame["id"])
        elif kind == "shutdown":
            return False
        return True

    # -- health -----------------------------------------------------------------------------------

    def healthcheck(self, seq):
        try:
            healthy, message = self.runner.healthcheck()
        except BaseException as exc:
            healthy, message = False, f"Healthcheck failed: {exc}"
        self.send({"type": "healthcheck_result", "seq": seq, "healthy": bool(healthy),
                   "message": message or ""})


def _snapshot(scope):
    try:
        return scope.metrics_snapshot() if scope is not None else None
    except Exception:
        return None


class _Sdk:
    """The parts of the cog package the driver needs, imported after output capture starts."""

    def __init__(self):
        from cog import _scope, _worker
        from cog.exceptions import CancelationException

        self.worker_module = _worker
        self.Runner = _worker.Runner
        self.InputError = _worker.InputError
        self.CancelationException = CancelationException
        self.prediction_scope = _scope.prediction_scope


def main(host, ref, mode, project_dir, upload_url, version):
    sys.stdout = _LogWriter(host, "stdout", 1)
    sys.stderr = _LogWriter(host, "stderr", 2)
    host.send(_dumps({"type": "log", "id": None, "source": "stderr",
                      "data": "File descriptor redirection complete\n"}))
    host.send(_dumps({"type": "hello", "python": platform.python_version(), "sdk": _sdk_version()}))
    try:
        if project_dir not in sys.path:
            sys.path.insert(0, project_dir)
        sdk = _Sdk()
        runner = sdk.Runner(ref, mode, project_dir)
        host.send(_dumps({"type": "schema", "schema": runner.openapi(version)}))
        if runner.is_async:
            import asyncio

            asyncio.run(_run_async(host, runner, upload_url, sdk))
        else:
            sdk.worker_module.install_cancel_handler()
            runner.setup()
            worker = _Worker(host, runner, upload_url, sdk)
            _announce_ready(host, runner, worker)
            worker.serve_sync()
    except BaseException as exc:
        traceback.print_exc()
        _flush_output()
        host.drain()
        host.send(_dumps({"type": "setup_failed", "error": _error_text(exc)}))


async def _run_async(host, runner, upload_url, sdk):
    result = runner.setup()
    if inspect.isawaitable(result):
        await result
    worker = _Worker(host, runner, upload_url, sdk)
    _announce_ready(host, runner, worker)
    await worker.serve_async()


def _announce_ready(host, runner, worker):
    _flush_output()
    host.set_async(bool(runner.is_async))
    host.set_healthcheck(worker.healthcheck if runner.has_healthcheck else None)
    host.drain()
    host.send(_dumps({"type": "ready", "is_async": bool(runner.is_async),
                      "streaming": bool(runner.streaming),
                      "max_concurrency": int(runner.max_concurrency or 1),
                      "healthcheck": bool(runner.has_healthcheck), "mode": runner.mode,
                      "python": platform.python_version(), "sdk": _sdk_version()}))


def _sdk_version():
    try:
        import cog

        return str(getattr(cog, "__version__", ""))
    except Exception:
        return ""
