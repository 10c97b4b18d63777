"""The Python half of the worker: what the C++ worker (runtime/worker/, pybind11) calls.

Contract (one ``Runner`` per worker process; all calls from the worker's main thread unless noted)::

    runner = Runner(ref, mode="predict", project_dir=".")
        # ref: "run.py:Runner", "predict.py:Predictor", "predict.py:predict", "train.py:train",
        # "train.py:Trainer", or "predict.py" (prefers Runner, then Predictor). Imports the file by
        # path (module name = file stem, in sys.modules), with project_dir (and the file's folder)
        # on sys.path and project_dir as the cwd; instantiates the class. Raises LoadError with
        # Cog's messages, SchemaError for signatures Cog rejects; user import errors propagate.
    runner.mode: str                  # "predict" | "train"
    runner.is_async: bool             # run()/predict()/train() is async def or an async generator
    runner.is_iterator: bool          # output is an iterator (each item is streamed)
    runner.streaming: bool            # @cog.streaming
    runner.max_concurrency: int       # @cog.concurrent(max=N), default 1
    runner.has_healthcheck: bool
    runner.openapi(version) -> str    # compact JSON, Cog's byte-exact key order
    runner.setup() -> None | awaitable
        # setup(weights=$COG_WEIGHTS) when declared. Called inside a running event loop (the
        # worker's), that loop becomes runner.loop and an async setup() is returned for the
        # caller to await; called outside one, async setup runs to completion on runner.loop.
    runner.validate_and_prepare(raw_input, prediction_id="") -> dict
        # raises InputError (.errors == .args[0] == the 422 "detail" list; also for file inputs that
        # are not http(s)/data: URLs) or FileInputError (a fetch failed: fail the prediction with
        # str(error)); temp files are tracked per prediction_id. Downloads are bounded (see
        # cog._files.Limits) and a CancelationException raised meanwhile stops them at once.
    await runner.validate_and_prepare_async(raw_input, prediction_id="") -> dict
        # the same without blocking the event loop; cancelling the awaiting task stops the downloads
    runner.run(kwargs, on_output, upload_url=None, prediction_id="") -> object
        # sync targets. Iterator outputs: on_output(encoded_item) per item (encoded with
        # upload_url), returns the list of encoded items. Otherwise returns the raw return value:
        # pass it to encode_output() (idempotent, so encoding an already-encoded item is harmless).
    await runner.run_async(kwargs, on_output, upload_url=None, prediction_id="") -> object
        # the same for async targets (async def / async generators); sync targets work too.
    runner.encode_output(value, upload_url, prediction_id) -> object   # JSON data; idempotent
    runner.healthcheck() -> (bool, str)   # (True, "") without a user healthcheck; caller times out.
        # Async healthchecks run on runner.loop: call it from another thread than the loop's,
        # or await runner.healthcheck_async() inside the loop.
    runner.cleanup(prediction_id="") -> None  # temp files of that prediction ("" = all of them)

    # Convenience, one call per prediction (scope + validate + run + encode + cleanup):
    runner.predict(raw_input, context, on_output, on_metric, upload_url, prediction_id)
        -> (encoded_output, metrics_dict)                  # sync targets
    await runner.predict_async(... same ...) -> (encoded_output, metrics_dict)   # async targets
        # on failure the exception propagates with .cog_metrics (dict) attached to it.

Async targets: ``runner.loop`` is the event loop that async setup() and healthcheck() use; the
worker runs ``runner.loop.run_forever()`` in one thread (``runner.start_loop_thread()`` does that)
and submits predictions with ``asyncio.run_coroutine_threadsafe(runner.predict_async(...),
runner.loop)``; cancelling that future cancels the task (``asyncio.CancelledError`` in user code).

Metrics: see ``cog._scope``. Each prediction runs inside ``prediction_scope(context, on_metric)``;
``on_metric(name, value, mode)`` fires per record, and the merged nested dict comes back from
``predict()``/``predict_async()`` (or ``scope.metrics_snapshot()``). The worker adds
``predict_time``.

Cancellation of sync predictions: call ``install_cancel_handler()`` once from the main thread;
SIGUSR1 then raises ``CancelationException`` in the main thread (where run() executes).
"""
import inspect
import os
import signal
import sys
import threading
import typing

from . import _encode, _inputs, _schema
from ._files import FileInputError, UploadError
from ._inputs import InputError
from ._loader import LoadError, Target, load_target
from ._schema import SchemaError
from ._scope import prediction_scope
from .exceptions import CancelationException

if typing.TYPE_CHECKING:
    import asyncio  # imported where an event loop is needed: sync workers start faster without it

OutputCallback = typing.Callable[[typing.Any], None]

__all__ = [
    "CancelationException",
    "FileInputError",
    "InputError",
    "LoadError",
    "Runner",
    "SchemaError",
    "UploadError",
    "install_cancel_handler",
    "openapi_for_project",
]


class Runner:
    """A loaded user runner (see the module docstring for the contract)."""

    def __init__(self, ref: str, mode: str = "predict", project_dir: str = "."):
        self.mode = mode
        self._target: Target = load_target(ref, mode, project_dir, instantiate=True)
        self.signature = self._target.signature
        fn = self._target.function
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
        self.is_iterator = self.signature.is_iterator or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn)
        self.streaming = self.signature.streaming
        self.max_concurrency = int(getattr(fn, "_cog_max_concurrency", 1))
        instance = self._target.instance
        self._healthcheck = getattr(instance, "healthcheck", None) if instance is not None else None
        self.has_healthcheck = callable(self._healthcheck)
        self._files: typing.Dict[str, _inputs.PreparedFiles] = {}
        self._loop: "typing.Optional[asyncio.AbstractEventLoop]" = None
        self._loop_thread: typing.Optional[threading.Thread] = None

    # -- schema -------------------------------------------------------------------------------

    def openapi(self, version: str) -> str:
        signatures = {self.mode: self.signature}
        return _schema.dumps(_schema.openapi_document(version, **signatures))

    # -- event loop ---------------------------------------------------------------------------

    @property
    def loop(self) -> "asyncio.AbstractEventLoop":
        if self._loop is None:
            import asyncio

            self._loop = asyncio.new_event_loop()
        return self._loop

    def start_loop_thread(self) -> threading.Thread:
        """Run :attr:`loop` forever in a daemon thread (for async runners)."""
        if self._loop_thread is None:
            self._loop_thread = threading.Thread(target=self.loop.run_forever, name="cog-async", daemon=True)
            self._loop_thread.start()
        return self._loop_thread

    def _await(self, awaitable: typing.Awaitable) -> typing.Any:
        if _running_loop() is not None:
            raise RuntimeError("cannot block inside a running event loop: await the *_async variant instead")
        if self.loop.is_running():  # driven by another thread: hand the coroutine over
            import asyncio

            return asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), self.loop).result()
        return self.loop.run_until_complete(awaitable)

    # -- lifecycle ----------------------------------------------------------------------------

    def setup(self) -> None:
        instance = self._target.instance
        setup = getattr(instance, "setup", None) if instance is not None else None
        if setup is None:
            return
        kwargs = {}
        try:
            parameters = inspect.signature(setup).parameters
        except (TypeError, ValueError):
            parameters = {}
        if "weights" in parameters:
            kwargs["weights"] = os.environ.get("COG_WEIGHTS")
        running = _running_loop()
        if running is not None:
            self._loop = running  # the worker drives its own loop: async work goes there
        result = setup(**kwargs)
        if inspect.isawaitable(result):
            if running is not None:
                return result  # called inside the worker's loop: the caller awaits it
            self._await(result)
        return None

    def healthcheck(self) -> typing.Tuple[bool, str]:
        """Blocking; for an async healthcheck call it from a thread other than the loop's."""
        if not self.has_healthcheck:
            return True, ""
        try:
            result = self._healthcheck()
            if inspect.isawaitable(result):
                result = self._await(result)
        except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
            return False, f"Healthcheck failed: {error}"
        return _health(result)

    async def healthcheck_async(self) -> typing.Tuple[bool, str]:
        """The same, from inside the worker's event loop."""
        if not self.has_healthcheck:
            return True, ""
        try:
            result = self._healthcheck()
            if inspect.isawaitable(result):
                result = await result
        except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
            return False, f"Healthcheck failed: {error}"
        return _health(result)

    # -- predictions --------------------------------------------------------------------------

    def validate_and_prepare(self, raw_input: typing.Mapping[str, typing.Any], prediction_id: str = "") -> dict:
        values = _inputs.validate(self.signature, raw_input or {})
        files = self._files.setdefault(prediction_id, _inputs.PreparedFiles())
        return _inputs.prepare(self.signature, values, files, supplied=set(raw_input or {}))

    async def validate_and_prepare_async(self, raw_input: typing.Mapping[str, typing.Any],
                                         prediction_id: str = "") -> dict:
        values = _inputs.validate(self.signature, raw_input or {})
        files = self._files.setdefault(prediction_id, _inputs.PreparedFiles())
        return await _inputs.prepare_async(self.signature, values, files, supplied=set(raw_input or {}))

    def cleanup(self, prediction_id: str = "") -> None:
        if prediction_id:
            files = self._files.pop(prediction_id, None)
            if files is not None:
                files.cleanup()
            return
        for files in self._files.values():
            files.cleanup()
        self._files.clear()

    def encode_output(self, value: typing.Any, upload_url: typing.Optional[str] = None, prediction_id: str = "") -> typing.Any:
        return _encode.encode(value, _encode.file_encoder(upload_url, prediction_id))

    def run(self, kwargs: dict, on_output: OutputCallback, upload_url: typing.Optional[str] = None, prediction_id: str = "") -> typing.Any:
        result = self._target.function(**kwargs)
        if inspect.isawaitable(result) or inspect.isasyncgen(result):
            raise TypeError("run() is async: call run_async() instead")
        if not self._iterates(result):
            return result
        return self._stream(result, on_output, upload_url, prediction_id)

    async def run_async(self, kwargs: dict, on_output: OutputCallback, upload_url: typing.Optional[str] = None, prediction_id: str = "") -> typing.Any:
        result = self._target.function(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        if inspect.isasyncgen(result) or (self.is_iterator and hasattr(result, "__aiter__")):
            encoded = []
            async for item in result:
                value = self.encode_output(item, upload_url, prediction_id)
                encoded.append(value)
                on_output(value)
            return encoded
        if not self._iterates(result):
            return result
        return self._stream(result, on_output, upload_url, prediction_id)

    def _stream(self, items: typing.Iterable, on_output: OutputCallback, upload_url: typing.Optional[str],
                prediction_id: str) -> list:
        """Encodes each item of an iterator output, hands it on as it comes, returns them all."""
        encoded = []
        for item in items:
            value = self.encode_output(item, upload_url, prediction_id)
            encoded.append(value)
            on_output(value)
        return encoded

    def _iterates(self, result: typing.Any) -> bool:
        if inspect.isgenerator(result):
            return True
        return self.is_iterator and hasattr(result, "__next__") and not isinstance(result, (str, bytes, dict))

    def predict(self, raw_input, context=None, on_output=None, on_metric=None, upload_url=None, prediction_id=""):
        """One whole sync prediction; returns ``(encoded_output, metrics)``."""
        with prediction_scope(context, on_metric) as scope:
            try:
                kwargs = self.validate_and_prepare(raw_input, prediction_id)
                result = self.run(kwargs, on_output or _ignore, upload_url, prediction_id)
                return self.encode_output(result, upload_url, prediction_id), scope.metrics_snapshot()
            except BaseException as error:
                _attach_metrics(error, scope)
                raise
            finally:
                self.cleanup(prediction_id)

    async def predict_async(self, raw_input, context=None, on_output=None, on_metric=None, upload_url=None, prediction_id=""):
        """One whole async prediction; returns ``(encoded_output, metrics)``."""
        with prediction_scope(context, on_metric) as scope:
            try:
                kwargs = await self.validate_and_prepare_async(raw_input, prediction_id)
                result = await self.run_async(kwargs, on_output or _ignore, upload_url, prediction_id)
                return self.encode_output(result, upload_url, prediction_id), scope.metrics_snapshot()
            except BaseException as error:
                _attach_metrics(error, scope)
                raise
            finally:
                self.cleanup(prediction_id)


def _health(result: typing.Any) -> typing.Tuple[bool, str]:
    if result is False:
        return False, "Healthcheck failed: user-defined healthcheck returned False"
    return True, ""  # any other value, bool or not, counts as healthy


def _running_loop() -> "typing.Optional[asyncio.AbstractEventLoop]":
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:  # never imported, so no event loop can be running
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _ignore(_value: typing.Any) -> None:
    pass


def _attach_metrics(error: BaseException, scope) -> None:
    try:
        error.cog_metrics = scope.metrics_snapshot()  # type: ignore[attr-defined]
    except AttributeError:
        pass


async def _as_coroutine(awaitable: typing.Awaitable) -> typing.Any:
    return await awaitable


def install_cancel_handler() -> None:
    """Make SIGUSR1 raise :class:`CancelationException` in the main thread (call from it)."""

    def cancel(_signum, _frame):
        raise CancelationException()

    signal.signal(signal.SIGUSR1, cancel)


def openapi_for_project(
    version: str,
    project_dir: str = ".",
    predict_ref: typing.Optional[str] = None,
    train_ref: typing.Optional[str] = None,
) -> str:
    """The document for a project with a predict and/or train ref, merged as Cog does.

    Classes are not instantiated, so this is safe to run at build time.
    """
    signatures = {}
    if predict_ref:
        signatures["predict"] = load_target(predict_ref, "predict", project_dir, instantiate=False).signature
    if train_ref:
        signatures["train"] = load_target(train_ref, "train", project_dir, instantiate=False).signature
    return _schema.dumps(_schema.openapi_document(version, **signatures))
