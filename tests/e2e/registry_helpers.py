"""Test registries for the registry end-to-end tests: Debian's docker-registry on 127.0.0.1 (plain,
htpasswd, TLS from a CA made here, or behind a token server written here), a TCP proxy that counts
and can cut connections, OCI layouts written by hand, and skopeo as the independent peer.
Everything listens on 127.0.0.1 on free ports, lives in a temp dir, and is stopped by the fixture."""
import base64
import contextlib
import gzip
import hashlib
import http.server
import io
import json
import os
import pathlib
import random
import re
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from ports import free_port  # noqa: F401 (the tests import it from here)

REGISTRY_BIN = "/usr/bin/docker-registry"


def run(cmd, check=True, **kwargs):
    kwargs.setdefault("text", True)
    result = subprocess.run(cmd, capture_output=True, timeout=180, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


# ----------------------------------------------------------------------------------------- TLS

def make_ca_and_server_cert(directory: pathlib.Path):
    """A CA and a server certificate for 127.0.0.1/localhost signed by it. Returns (ca, cert, key)."""
    d = pathlib.Path(directory)
    ca_key, ca_crt = d / "ca.key", d / "ca.crt"
    key, csr, crt, ext = d / "server.key", d / "server.csr", d / "server.crt", d / "ext.cnf"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
         "-days", "2", "-subj", "/CN=cog test CA"])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"])
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext])
    return ca_crt, crt, key


# -------------------------------------------------------------------------------- token server

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Docker's token protocol: GET /token?service=&scope=... with optional Basic auth, answering
    {"token": JWT} signed with a key whose certificate the registry trusts (x5c header).
    Users in `users` get every action they ask for; anonymous callers only `pull`."""

    def __init__(self, directory: pathlib.Path, users: dict, service="cog-test-registry", issuer="cog-test-issuer"):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.users, self.service, self.issuer = users, service, issuer
        self.key, self.cert = self.dir / "token.key", self.dir / "token.crt"
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.cert,
             "-days", "2", "-subj", "/CN=cog test token signer"])
        der = run(["openssl", "x509", "-in", self.cert, "-outform", "DER"], text=False).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests = []  # (user or None, [scopes])
        self.identity_tokens = {}  # refresh token -> user
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self._server = None

    def _sign(self, claims: dict) -> str:
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signing_input.encode(), capture_output=True, check=True).stdout
        return signing_input + "." + _b64url(signature)

    def _issue(self, user, scopes):
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            granted = wanted if user else [a for a in wanted if a == "pull"]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        return self._sign({"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + 600,
                           "nbf": now - 60, "iat": now, "jti": os.urandom(8).hex(), "access": access})

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)
                user = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if owner.users.get(name) != password:
                        self.send_response(401)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                        return
                    user = name
                scopes = query.get("scope", [])
                owner.requests.append((user, scopes))
                body = json.dumps({"token": owner._issue(user, scopes), "expires_in": 600}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # OAuth2 refresh-token grant (docker's identity tokens)
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                user = owner.identity_tokens.get(form.get("refresh_token", [""])[0])
                if form.get("grant_type") != ["refresh_token"] or not user:
                    self.send_response(401)
                    self.end_headers()
                    return
                scopes = form.get("scope", [""])[0].split()
                owner.requests.append((user, scopes))
                body = json.dumps({"access_token": owner._issue(user, scopes), "expires_in": 600}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()


# ------------------------------------------------------------------------------------ registry

class Registry:
    """One docker-registry process. `auth` is None, ("htpasswd", {user: password}) or ("token", TokenServer)."""

    def __init__(self, directory: pathlib.Path, auth=None, tls=False):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.auth, self.tls = auth, tls
        self.ca = None
        self.process = None

    def _config(self) -> str:
        lines = [
            "version: 0.1",
            "log:", "  level: warn", "  accesslog:", "    disabled: true",
            "storage:", f"  filesystem:", f"    rootdirectory: {self.dir / 'storage'}",
            "  delete:", "    enabled: true",
            "http:", f"  addr: 127.0.0.1:{self.port}", "  secret: cog-registry-test-secret",
        ]
        if self.tls:
            self.ca, cert, key = make_ca_and_server_cert(self.dir)
            lines += ["  tls:", f"    certificate: {cert}", f"    key: {key}"]
        if self.auth and self.auth[0] == "htpasswd":
            htpasswd = self.dir / "htpasswd"
            htpasswd.write_text("".join(run(["htpasswd", "-Bbn", u, p]).stdout.strip() + "\n"
                                        for u, p in self.auth[1].items()))
            lines += ["auth:", "  htpasswd:", "    realm: cog-test", f"    path: {htpasswd}"]
        elif self.auth and self.auth[0] == "token":
            server = self.auth[1]
            lines += ["auth:", "  token:", f"    realm: {server.realm}", f"    service: {server.service}",
                      f"    issuer: {server.issuer}", f"    rootcertbundle: {server.cert}"]
        return "\n".join(lines) + "\n"

    @property
    def url(self) -> str:
        return ("https://" if self.tls else "http://") + self.host

    def start(self):
        config = self.dir / "config.yml"
        config.write_text(self._config())
        self.log = open(self.dir / "registry.log", "w")
        self.process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=self.log, stderr=self.log)
        context = ssl._create_unverified_context() if self.tls else None
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=2, context=context)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for credentials
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("docker-registry did not start:\n" + (self.dir / "registry.log").read_text())
                time.sleep(0.1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()


@contextlib.contextmanager
def running(*servers):
    started = []
    try:
        for server in servers:
            started.append(server.start())
        yield servers if len(servers) > 1 else servers[0]
    finally:
        for server in reversed(started):
            server.stop()


# --------------------------------------------------------------------------------------- proxy

REQUEST_LINE = re.compile(rb"(GET|HEAD|POST|PUT|PATCH|DELETE) (/\S*) HTTP/1\.1\r\n")


class CuttingProxy:
    """A TCP proxy to 127.0.0.1:`target_port` that records request lines and byte counts, and can
    drop one connection once `cut_after` bytes have flowed on it in `cut_direction`
    ("up" = client to registry, "down" = registry to client)."""

    def __init__(self, target_port: int, cut_after=None, cut_direction="up", cuts=1):
        self.target_port, self.cut_after, self.cut_direction, self.cuts_left = target_port, cut_after, cut_direction, cuts
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.bytes_up = 0
        self.bytes_down = 0
        self.requests = []  # (method, path)
        self.cuts_done = 0
        self._listener = None
        self._stopping = False

    def start(self):
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self):
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            state = {"up": 0, "down": 0, "closed": False}
            threading.Thread(target=self._pump, args=(client, upstream, "up", state), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, "down", state), daemon=True).start()

    def _pump(self, source, sink, direction, state):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                cut = False
                with self.lock:
                    if direction == "up":
                        self.bytes_up += len(data)
                        self.requests += [(m.decode(), p.decode()) for m, p in REQUEST_LINE.findall(data)]
                    else:
                        self.bytes_down += len(data)
                    state[direction] += len(data)
                    if (self.cut_after is not None and direction == self.cut_direction and self.cuts_left > 0
                            and state[direction] > self.cut_after):
                        self.cuts_left -= 1
                        self.cuts_done += 1
                        cut = True
                if cut:
                    sink.sendall(data[: len(data) // 2]) if direction == "up" else None
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def count(self, method, path_part=""):
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and path_part in p)


# ---------------------------------------------------------------------------------- OCI layout

def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _write_blob(root: pathlib.Path, data: bytes) -> str:
    digest = _sha256(data)
    path = root / "blobs" / "sha256" / digest.split(":")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def payload(seed: int, size: int) -> bytes:
    """Incompressible, reproducible bytes."""
    return random.Random(seed).randbytes(size)


def _layer(name: str, content: bytes):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as gz:
        gz.write(tar_bytes)
    return compressed.getvalue(), _sha256(tar_bytes)


def make_oci_image(root: pathlib.Path, tag: str, layer_contents: list) -> dict:
    """Writes an image with one file per layer into the OCI layout `root` (created if needed) and
    tags it. Returns {"manifest": digest, "blobs": {digest: size}, "size": manifest size}."""
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    layers, diff_ids, blobs = [], [], {}
    for i, content in enumerate(layer_contents):
        data, diff_id = _layer(f"file-{i}.bin", content)
        digest = _write_blob(root, data)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": len(data)})
        diff_ids.append(diff_id)
        blobs[digest] = len(data)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode()
    config_digest = _write_blob(root, config)
    blobs[config_digest] = len(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": config_digest, "size": len(config)},
                           "layers": layers}, sort_keys=True).encode()
    manifest_digest = _write_blob(root, manifest)
    index_path = root / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                               "size": len(manifest),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    index_path.write_text(json.dumps(index))
    return {"manifest": manifest_digest, "blobs": blobs, "size": len(manifest), "config": config_digest}


def layout_manifest_digest(root: pathlib.Path, tag: str) -> str:
    index = json.loads((pathlib.Path(root) / "index.json").read_text())
    for entry in index["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return entry["digest"]
    raise AssertionError(f"no {tag} in {root}")


# -------------------------------------------------------------------------------------- skopeo

def skopeo(*args, env=None):
    return run(["skopeo", "--insecure-policy", *map(str, args)], env=env)


def skopeo_digest(image: str, *flags) -> str:
    """The manifest digest the registry serves for `image` (docker://...), as skopeo computes it."""
    raw = run(["skopeo", "inspect", "--raw", *flags, image], text=False).stdout
    return _sha256(raw)


def stats_from(stderr: str, kind="push") -> dict:
    match = re.search(kind + r" stats: (.*)", stderr)
    assert match, f"no {kind} stats in:\n{stderr}"
    return {k: int(v) for k, v in (item.split("=") for item in match.group(1).split())}
