"""File inputs (download, data: URIs) and file outputs (data: URLs, uploads), as in Cog §4.13.

Inputs come from clients that may be hostile, so a fetch is bounded: only http(s) and data: URLs,
at most ``COG_MAX_INPUT_FILE_SIZE`` bytes, connect/read/total timeouts, and a per-prediction
:class:`FetchControl` whose ``cancel()`` stops every download of that prediction at once (the event
is checked between chunks and the sockets are shut down, which wakes a blocked ``recv``).

One module of about 420 lines: the bounded download (its connection, handler and transfer
classes) is most of it, and the output side (data URLs, uploads) shares its limits and errors.
"""
import base64
import binascii
import http.client
import mimetypes
import os
import socket
import sys
import threading
import time
import typing
import urllib.error
import urllib.parse
import urllib.request

_MAX_NAME_BYTES = 200
_UPLOAD_TIMEOUT_S = 25
_CHUNK_BYTES = 1 << 20

# 1 GiB: above the images, audio, video clips and LoRA-sized weights models take as inputs, and
# small enough that one input cannot fill a typical container disk. Big-weights models raise it.
DEFAULT_MAX_INPUT_FILE_SIZE = 1 << 30
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 30.0
# Read timeouts are per recv: a server dripping one byte every 29 s would never hit them.
# 10 minutes is 1 GiB at ~1.7 MiB/s; prediction slots are too scarce to wait longer by default.
DEFAULT_DOWNLOAD_TIMEOUT_S = 600.0

REMOTE_SCHEMES = ("http", "https", "data")


class FileInputError(Exception):
    """A file input could not be fetched; the prediction fails before ``run()`` starts."""


class FetchCanceled(FileInputError):
    """The prediction was canceled while its file inputs were being fetched."""


class UploadError(Exception):
    """A file output could not be uploaded to the upload URL."""


class Limits(typing.NamedTuple):
    """Bounds on one file input's fetch; 0 means unlimited for ``max_size`` and ``total_timeout``."""

    max_size: int = DEFAULT_MAX_INPUT_FILE_SIZE
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout: float = DEFAULT_READ_TIMEOUT_S
    total_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT_S

    @classmethod
    def from_env(cls, environ: typing.Mapping[str, str] = os.environ) -> "Limits":
        return cls(
            max_size=int(_env_number(environ, "COG_MAX_INPUT_FILE_SIZE", DEFAULT_MAX_INPUT_FILE_SIZE, int, zero_ok=True)),
            connect_timeout=_env_number(environ, "COG_INPUT_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT_S, float),
            read_timeout=_env_number(environ, "COG_INPUT_READ_TIMEOUT", DEFAULT_READ_TIMEOUT_S, float),
            total_timeout=_env_number(environ, "COG_INPUT_DOWNLOAD_TIMEOUT", DEFAULT_DOWNLOAD_TIMEOUT_S, float,
                                      zero_ok=True),
        )


def _env_number(environ, name, default, kind, zero_ok=False):
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if value < 0 or (value == 0 and not zero_ok) or value != value:  # negative, zero or NaN
        print(f"cog: warning: {name}={raw!r} is not a valid {'size' if kind is int else 'number of seconds'}"
              f" — using {default}", file=sys.stderr)
        return default
    return value


class FetchControl:
    """Cancels the fetches of one prediction from any thread: they stop between chunks, and
    ``cancel()`` shuts their sockets down so a download blocked in ``recv`` returns at once."""

    def __init__(self) -> None:
        self._canceled = threading.Event()
        self._lock = threading.Lock()
        self._sockets: typing.Set[socket.socket] = set()

    @property
    def canceled(self) -> bool:
        return self._canceled.is_set()

    def cancel(self) -> None:
        self._canceled.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def check(self) -> None:
        if self._canceled.is_set():
            raise FetchCanceled("the prediction was canceled")

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if self._canceled.is_set():  # canceled while this socket was connecting
            _shutdown(sock)
            raise FetchCanceled("the prediction was canceled")

    def untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)


def _shutdown(sock: socket.socket) -> None:
    # A closed socket object has fd -1, so a reused descriptor number is never touched.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _truncate_name(name: str) -> str:
    """Keep names within 200 bytes, keeping the extension and marking the cut with ``~``."""
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    stem, ext = os.path.splitext(name)
    if len(ext.encode()) > _MAX_NAME_BYTES // 2:
        stem, ext = name, ""
    budget = _MAX_NAME_BYTES - len(ext.encode()) - 1
    cut = stem.encode()[:budget].decode("utf-8", errors="ignore")
    return f"{cut}~{ext}"


def filename_from_url(url: str) -> str:
    """The local file name for a downloaded URL: its URL-decoded basename, made safe.

    Never a path: ``/`` and NUL become ``_``, and ``.``/``..``/empty names become ``file``.
    """
    raw = urllib.parse.urlparse(url).path.rsplit("/", 1)[-1]
    name = _truncate_name(urllib.parse.unquote(raw).replace("/", "_").replace("\0", "_"))
    return "file" if name in ("", ".", "..") else name


def _split_data_uri(uri: str) -> typing.Tuple[str, bytes]:
    header, sep, payload = uri[len("data:"):].partition(",")
    if not sep:
        raise FileInputError("invalid data URI: missing ','")
    params = header.split(";")
    mime = params[0] or "text/plain"
    # As Cog (urllib's data: handler): percent-escapes are decoded first, even in base64 payloads.
    data = urllib.parse.unquote_to_bytes(payload)
    if "base64" in params[1:]:
        # Whitespace (line-wrapped base64) is tolerated; other junk is refused instead of being
        # dropped silently, and so is missing padding, which Cog refuses too.
        try:
            data = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise FileInputError(f"invalid data URI: the payload is not valid base64 ({error})") from error
    return mime, data


def _size_error(limit: int) -> FileInputError:
    return FileInputError(f"the file is larger than {limit} bytes (COG_MAX_INPUT_FILE_SIZE)")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _destination(directory: str, name: str) -> str:
    destination = os.path.join(directory, name)
    if os.path.dirname(destination) != directory:  # filename_from_url never allows it; be sure
        raise FileInputError(f"unsafe file name {name!r}")
    return destination


def fetch(url: str, directory: str, control: typing.Optional[FetchControl] = None,
          limits: typing.Optional[Limits] = None) -> str:
    """Download an http(s) URL or decode a data: URI into ``directory`` (which must exist);
    returns the local path. Raises :class:`FileInputError` (:class:`FetchCanceled` on cancel);
    a partial file is removed."""
    control = control or FetchControl()
    limits = limits or Limits.from_env()
    control.check()
    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme == "data":
        mime, data = _split_data_uri(url)
        if limits.max_size and len(data) > limits.max_size:
            raise _size_error(limits.max_size)
        extension = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
        destination = _destination(directory, f"file{extension}")
        with open(destination, "wb") as out:
            out.write(data)
        return destination
    if scheme not in ("http", "https"):
        raise FileInputError(f"unsupported URL scheme {scheme!r}: file inputs are http://, https:// or data: URLs")
    destination = _destination(directory, filename_from_url(url))
    try:
        _download(url, destination, control, limits)
    except BaseException:
        _remove(destination)
        raise
    return destination


class _Transfer:
    """One download: its sockets (registered with the prediction's control) and its phase."""

    def __init__(self, control: FetchControl, limits: Limits):
        self.control = control
        self.limits = limits
        self.sockets: typing.List[socket.socket] = []
        self.connected = False

    def track(self, sock: socket.socket) -> None:
        self.sockets.append(sock)
        self.control.track(sock)

    def limit_wait(self, seconds: float) -> None:
        """Let the next recv wait at most ``seconds`` (the total deadline is nearer than a read timeout)."""
        if self.sockets and seconds < self.limits.read_timeout:
            try:
                self.sockets[-1].settimeout(max(seconds, 0.001))
            except OSError:
                pass

    def release(self) -> None:
        for sock in self.sockets:
            self.control.untrack(sock)


class _BoundedConnection:
    """Connects under the connect timeout, then reads under the read timeout; every socket is
    registered with the transfer so that a cancel can shut it down."""

    def __init__(self, *args, transfer: _Transfer, **kwargs):
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.transfer = transfer
        self._create_connection = self._create_tracked

    def _create_tracked(self, address, timeout, source_address=None):
        self.transfer.control.check()
        self.transfer.connected = False
        sock = socket.create_connection(address, timeout, source_address)
        self.transfer.track(sock)
        return sock

    def connect(self):
        super().connect()  # type: ignore[misc]
        self.transfer.track(self.sock)  # for HTTPS: the TLS socket over the tracked one
        self.sock.settimeout(self.transfer.limits.read_timeout)
        self.transfer.connected = True


class _HTTPConnection(_BoundedConnection, http.client.HTTPConnection):
    pass



class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, transfer: _Transfer):
        super().__init__()
        self.transfer = transfer

    def http_open(self, req):
        return self.do_open(lambda *a, **kw: _HTTPConnection(*a, transfer=self.transfer, **kw), req)


# A Python built without ssl (some images' interpreters) has no HTTPS classes: https:// inputs
# then fail as unknown URLs, and everything else works.
if hasattr(http.client, "HTTPSConnection") and hasattr(urllib.request, "HTTPSHandler"):

    class _HTTPSConnection(_BoundedConnection, http.client.HTTPSConnection):
        pass

    class _HTTPSHandler(urllib.request.HTTPSHandler):
        def __init__(self, transfer: _Transfer):
            super().__init__()
            self.transfer = transfer

        def https_open(self, req):
            return self.do_open(lambda *a, **kw: _HTTPSConnection(*a, transfer=self.transfer, **kw), req,
                                context=self._context)

    _TLS_HANDLERS: typing.Tuple[typing.Callable[[_Transfer], urllib.request.BaseHandler], ...] = (_HTTPSHandler,)
else:
    _TLS_HANDLERS = ()


def _opener(transfer: _Transfer) -> urllib.request.OpenerDirector:
    # Only http(s), also after redirects (urllib's default opener would follow one to ftp://).
    opener = urllib.request.OpenerDirector()
    handlers = [urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), _HTTPHandler(transfer),
                *(make(transfer) for make in _TLS_HANDLERS), urllib.request.HTTPDefaultErrorHandler(),
                urllib.request.HTTPRedirectHandler(), urllib.request.HTTPErrorProcessor()]
    for handler in handlers:
        opener.add_handler(handler)
    return opener


def _download(url: str, destination: str, control: FetchControl, limits: Limits) -> None:
    request = urllib.request.Request(url)
    user_agent = os.environ.get("COG_USER_AGENT")
    if user_agent:
        request.add_header("User-Agent", user_agent)
    transfer = _Transfer(control, limits)
    deadline = time.monotonic() + limits.total_timeout if limits.total_timeout else None
    try:
        with _opener(transfer).open(request, timeout=limits.connect_timeout) as response:
            expected = response.length  # Content-Length; None for chunked bodies
            if limits.max_size and expected is not None and expected > limits.max_size:
                raise _size_error(limits.max_size)
            received = 0
            with open(destination, "wb") as out:
                while True:
                    control.check()
                    if deadline is not None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise socket.timeout("total")
                        transfer.limit_wait(remaining)
                    chunk = response.read1(_CHUNK_BYTES)
                    if not chunk:
                        break
                    received += len(chunk)
                    if limits.max_size and received > limits.max_size:
                        raise _size_error(limits.max_size)
                    out.write(chunk)
            control.check()  # a socket shut down by cancel reads as the end of the body
            if expected is not None and received < expected:
                raise FileInputError(f"the body ended after {received} of the {expected} bytes"
                                     " its Content-Length announced")
    except FileInputError as error:
        if isinstance(error, FetchCanceled):
            raise
        raise FileInputError(f"failed to download {url}: {error}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        control.check()  # errors of a socket shut down by cancel are the cancel
        raise FileInputError(f"failed to download {url}: {_describe(error, transfer, deadline)}") from error
    finally:
        transfer.release()


def _describe(error: BaseException, transfer: _Transfer, deadline: typing.Optional[float]) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) and not isinstance(
        error, urllib.error.HTTPError) else error
    if not isinstance(reason, socket.timeout):
        return str(error)
    limits = transfer.limits
    if deadline is not None and time.monotonic() >= deadline - 0.01:
        return f"not finished within {limits.total_timeout:g} s (COG_INPUT_DOWNLOAD_TIMEOUT)"
    if not transfer.connected:
        return f"could not connect within {limits.connect_timeout:g} s (COG_INPUT_CONNECT_TIMEOUT)"
    return f"no data received for {limits.read_timeout:g} s (COG_INPUT_READ_TIMEOUT)"


def is_remote(value: str) -> bool:
    """An http(s) or data: URL: the only file inputs a client may send (see :func:`local_input`)."""
    return urllib.parse.urlparse(value).scheme.lower() in REMOTE_SCHEMES


def local_input(value: str, environ: typing.Mapping[str, str] = os.environ) -> typing.Optional[str]:
    """The real path of a local file input (plain path or file:// URL) allowed by the opt-in
    ``COG_LOCAL_FILE_INPUTS=<dir>``, or None: off by default, and nothing outside that directory
    once symlinks and ``..`` are resolved."""
    root = environ.get("COG_LOCAL_FILE_INPUTS", "")
    if not root or not value:
        return None
    parsed = urllib.parse.urlparse(value)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        path = urllib.parse.unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:  # some other URL scheme (not a path)
        return None
    else:
        path = value
    if "\0" in path:
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, path))  # relative paths are inside the directory
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        return None
    return real


def mime_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def data_url(data: bytes, name: str) -> str:
    return f"data:{mime_type(name)};base64,{base64.b64encode(data).decode('ascii')}"


def upload(data: bytes, name: str, upload_url: str, prediction_id: str = "") -> str:
    """PUT the bytes to ``{upload_url}/{name}``; returns the Location (or final URL) sans query."""
    target = upload_url if upload_url.endswith("/") else upload_url + "/"
    target += urllib.parse.quote(name)
    request = urllib.request.Request(target, data=data, method="PUT")
    request.add_header("Content-Type", mime_type(name))
    if prediction_id:
        request.add_header("X-Prediction-ID", prediction_id)
    try:
        with urllib.request.urlopen(request, timeout=_UPLOAD_TIMEOUT_S) as response:
            location = response.headers.get("Location") or response.geturl()
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise UploadError(f"Failed to upload file output {name}: {error}") from error
    parsed = urllib.parse.urlparse(urllib.parse.urljoin(target, location))
    return urllib.parse.urlunparse(parsed._replace(query="", fragment=""))
