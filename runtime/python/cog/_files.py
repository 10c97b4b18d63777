"""File inputs (download, data: URIs) and file outputs (data: URLs, uploads), as in Cog §4.13."""
import base64
import mimetypes
import os
import typing
import urllib.error
import urllib.parse
import urllib.request

_MAX_NAME_BYTES = 200
_UPLOAD_TIMEOUT_S = 25


class FileInputError(Exception):
    """A file input could not be fetched; the prediction fails before ``run()`` starts."""


class UploadError(Exception):
    """A file output could not be uploaded to the upload URL."""


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
    """The local file name for a downloaded URL: its URL-decoded basename, made safe."""
    raw = urllib.parse.urlparse(url).path.rsplit("/", 1)[-1]
    name = urllib.parse.unquote(raw).replace("/", "_").replace("\0", "_")
    return _truncate_name(name) or "file"


def _split_data_uri(uri: str) -> typing.Tuple[str, bytes]:
    header, sep, payload = uri[len("data:"):].partition(",")
    if not sep:
        raise FileInputError("invalid data URI: missing ','")
    params = header.split(";")
    mime = params[0] or "text/plain"
    try:
        if "base64" in params[1:]:
            data = base64.b64decode(payload, validate=False)
        else:
            data = urllib.parse.unquote_to_bytes(payload)
    except ValueError as error:
        raise FileInputError(f"invalid data URI: {error}") from error
    return mime, data


def fetch(url: str, directory: str) -> str:
    """Download an http(s) URL or decode a data: URI into ``directory``; returns the local path."""
    os.makedirs(directory, exist_ok=True)
    if url.startswith("data:"):
        mime, data = _split_data_uri(url)
        extension = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
        destination = os.path.join(directory, f"file{extension}")
        with open(destination, "wb") as out:
            out.write(data)
        return destination
    request = urllib.request.Request(url)
    user_agent = os.environ.get("COG_USER_AGENT")
    if user_agent:
        request.add_header("User-Agent", user_agent)
    destination = os.path.join(directory, filename_from_url(url))
    try:
        with urllib.request.urlopen(request) as response, open(destination, "wb") as out:
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise FileInputError(f"failed to download {url}: {error}") from error
    return destination


def is_remote(value: str) -> bool:
    scheme = urllib.parse.urlparse(value).scheme
    return scheme in ("http", "https", "data")


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
