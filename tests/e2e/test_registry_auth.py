"""Authentication and TLS against real registries: htpasswd basic auth with `cog login`, a token
server (bearer tokens per repository scope), TLS from a CA made in the test, and Replicate's token
login against a fake verify-token endpoint."""
import base64
import http.server
import json
import os
import stat
import threading
import urllib.parse

import pytest

from cog_cli import private_env, run_cog_with as cog
from registry_helpers import (Registry, TokenServer, make_oci_image, payload, running, skopeo_digest,
                              stats_from, free_port)


@pytest.fixture
def env(tmp_path):
    return private_env(tmp_path)


def docker_config(env):
    path = os.path.join(env["DOCKER_CONFIG"], "config.json")
    with open(path) as f:
        return json.load(f), stat.S_IMODE(os.stat(path).st_mode)


def test_basic_auth_login_then_push(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(1, 100_000), payload(2, 1000)])
    source = f"oci:{tmp_path / 'src'}:v1"
    with running(Registry(tmp_path / "reg", auth=("htpasswd", {"alice": "s3cret"}))) as registry:
        anonymous = cog(cog_bin, env, "push", f"{registry.host}/team/model:v1", "--from", source, check=False)
        assert anonymous.returncode == 1
        assert registry.host in anonymous.stderr and "HTTP 401 Unauthorized" in anonymous.stderr
        assert f"cog login {registry.host}" in anonymous.stderr

        wrong = cog(cog_bin, env, "login", registry.host, "-u", "alice", "--password-stdin", stdin="nope\n", check=False)
        assert wrong.returncode == 1 and registry.host in wrong.stderr
        assert not os.path.exists(os.path.join(env["DOCKER_CONFIG"], "config.json"))

        cog(cog_bin, env, "login", registry.host, "-u", "alice", "--password-stdin", stdin="s3cret\n")
        config, mode = docker_config(env)
        assert mode == 0o600
        assert base64.b64decode(config["auths"][registry.host]["auth"]).decode() == "alice:s3cret"

        cog(cog_bin, env, "push", f"{registry.host}/team/model:v1", "--from", source)
        assert skopeo_digest(f"docker://{registry.host}/team/model:v1", "--tls-verify=false",
                             "--creds", "alice:s3cret") == image["manifest"]


def test_token_server_scopes_and_refusal(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(3, 100_000)])
    source = f"oci:{tmp_path / 'src'}:v1"
    token_server = TokenServer(tmp_path / "tokens", users={"bob": "hunter2"})
    with running(token_server, Registry(tmp_path / "reg", auth=("token", token_server))) as (tokens, registry):
        anonymous = cog(cog_bin, env, "push", f"{registry.host}/team/model:v1", "--from", source, check=False)
        assert anonymous.returncode == 1 and f"{registry.host}/team/model" in anonymous.stderr

        os.makedirs(env["DOCKER_CONFIG"], exist_ok=True)
        with open(os.path.join(env["DOCKER_CONFIG"], "config.json"), "w") as f:
            json.dump({"auths": {f"http://{registry.host}": {"auth": base64.b64encode(b"bob:hunter2").decode()}}}, f)
        tokens.requests.clear()
        result = cog(cog_bin, env, "--debug", "push", f"{registry.host}/team/model:v1", "--from", source)
        assert stats_from(result.stderr)["blobs_uploaded"] == 2
        assert ("bob", ["repository:team/model:pull,push"]) in tokens.requests
        assert skopeo_digest(f"docker://{registry.host}/team/model:v1", "--tls-verify=false",
                             "--creds", "bob:hunter2") == image["manifest"]

        # Anonymous pulls get pull-only tokens, which this registry accepts for reading.
        out = tmp_path / "out"
        anon_env = {**env, "DOCKER_CONFIG": str(tmp_path / "empty-config")}
        pulled = cog(cog_bin, anon_env, "pull", f"{registry.host}/team/model:v1", "--output", f"oci:{out}:v1")
        assert f"Digest: {image['manifest']}" in pulled.stderr
        assert (None, ["repository:team/model:pull"]) in tokens.requests

        # Parallel blob uploads share one token per scope set.
        assert tokens.requests.count(("bob", ["repository:team/model:pull,push"])) == 1

        # An identity token (OAuth2 refresh token) is exchanged with a POST, not sent as a password.
        tokens.identity_tokens["refresh-for-bob"] = "bob"
        with open(os.path.join(env["DOCKER_CONFIG"], "config.json"), "w") as f:
            json.dump({"auths": {registry.host: {"auth": base64.b64encode(b"bob:").decode(),
                                                 "identitytoken": "refresh-for-bob"}}}, f)
        cog(cog_bin, env, "push", f"{registry.host}/team/identity:v1", "--from", source)
        assert ("bob", ["repository:team/identity:pull,push"]) in tokens.requests

        # `cog login` answers the bearer challenge with the new credentials before storing them.
        wrong = cog(cog_bin, anon_env, "login", registry.host, "-u", "bob", "--password-stdin", stdin="nope", check=False)
        assert wrong.returncode == 1 and "nothing was stored" in wrong.stderr
        cog(cog_bin, anon_env, "login", registry.host, "-u", "bob", "--password-stdin", stdin="hunter2")
        assert ("bob", []) in tokens.requests

        # Bad stored credentials: the token server refuses, and the error says where and what.
        with open(os.path.join(env["DOCKER_CONFIG"], "config.json"), "w") as f:
            json.dump({"auths": {registry.host: {"auth": base64.b64encode(b"bob:wrong").decode()}}}, f)
        refused = cog(cog_bin, env, "push", f"{registry.host}/team/model:v2", "--from", source, check=False)
        assert refused.returncode == 1
        assert tokens.realm in refused.stderr and "UNAUTHORIZED" in refused.stderr


def test_tls_registry_needs_its_ca(cog_bin, env, tmp_path):
    image = make_oci_image(tmp_path / "src", "v1", [payload(5, 50_000)])
    source = f"oci:{tmp_path / 'src'}:v1"
    with running(Registry(tmp_path / "reg", tls=True)) as registry:
        untrusted = cog(cog_bin, env, "push", f"{registry.host}/tls/model:v1", "--from", source, check=False)
        assert untrusted.returncode == 1
        assert registry.host in untrusted.stderr and "--ca-bundle" in untrusted.stderr

        with_env = {**env, "COG_REGISTRY_CA_BUNDLE": str(registry.ca)}
        cog(cog_bin, with_env, "push", f"{registry.host}/tls/model:v1", "--from", source)
        cog(cog_bin, env, "push", f"{registry.host}/tls/model:v2", "--from", source, "--ca-bundle", registry.ca)
        cog(cog_bin, env, "push", f"{registry.host}/tls/model:v3", "--from", source, "--insecure")
        certs = tmp_path / "certs"
        certs.mkdir()
        (certs / "ca.crt").write_bytes(registry.ca.read_bytes())
        for tag in ("v1", "v2", "v3"):
            assert skopeo_digest(f"docker://{registry.host}/tls/model:{tag}", "--cert-dir", certs) == image["manifest"]


class FakeReplicate:
    """The two `/cog/v1/` endpoints `cog login` talks to on the Replicate registry host."""

    def __init__(self):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.tokens_seen = []

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/cog/v1/display-token-url":
                    return self.reply(200, {"url": f"http://{owner.host}/auth/token"})
                self.reply(404, {"detail": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                token = form.get("token", [""])[0]
                owner.tokens_seen.append(token)
                if self.path == "/cog/v1/verify-token" and token == "good-cli-token":
                    return self.reply(200, {"username": "alice"})
                self.reply(404, {"detail": "user does not exist"})

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def test_replicate_token_login(cog_bin, env):
    with running(FakeReplicate()) as fake:
        login_env = {**env, "COG_REGISTRY_HOST": fake.host}
        bad = cog(cog_bin, login_env, "login", "--token-stdin", stdin="unknown-token\n", check=False)
        assert bad.returncode == 1 and "user does not exist" in bad.stderr

        api = cog(cog_bin, login_env, "login", "--token-stdin", stdin="r8_abcdef\n", check=False)
        assert api.returncode == 1 and "r8_" in api.stderr
        assert "r8_abcdef" not in fake.tokens_seen  # rejected before asking

        ok = cog(cog_bin, login_env, "login", "--token-stdin", stdin="good-cli-token\n")
        assert "You've successfully authenticated as alice" in ok.stderr
        config, mode = docker_config(env)
        assert mode == 0o600
        assert base64.b64decode(config["auths"][fake.host]["auth"]).decode() == "alice:good-cli-token"

        # Interactive: the page URL is shown, the token read from the (non-terminal) stdin.
        interactive = cog(cog_bin, login_env, "login", stdin="\ngood-cli-token\n")
        assert f"http://{fake.host}/auth/token" in interactive.stderr


def test_login_stores_through_a_credential_helper(cog_bin, env, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    store = tmp_path / "helper-store"
    helper = bin_dir / "docker-credential-fake"
    helper.write_text(f"#!/bin/sh\nif [ \"$1\" = store ]; then cat > {store}; exit 0; fi\n"
                      f"if [ \"$1\" = get ] && [ -f {store} ]; then cat {store}; exit 0; fi\n"
                      "echo 'credentials not found in native keychain'; exit 1\n")
    helper.chmod(0o755)
    os.makedirs(env["DOCKER_CONFIG"])
    with open(os.path.join(env["DOCKER_CONFIG"], "config.json"), "w") as f:
        json.dump({"credsStore": "fake"}, f)
    helper_env = {**env, "PATH": f"{bin_dir}:{env['PATH']}"}
    image = make_oci_image(tmp_path / "src", "v1", [payload(6, 1000)])
    with running(Registry(tmp_path / "reg", auth=("htpasswd", {"carol": "pw"}))) as registry:
        cog(cog_bin, helper_env, "login", registry.host, "-u", "carol", "--password-stdin", stdin="pw")
        saved = json.loads(store.read_text())
        assert saved == {"ServerURL": registry.host, "Username": "carol", "Secret": "pw"}
        config, _ = docker_config(env)
        assert "auths" not in config
        cog(cog_bin, helper_env, "push", f"{registry.host}/helper/model:v1", "--from", f"oci:{tmp_path / 'src'}:v1")
        assert skopeo_digest(f"docker://{registry.host}/helper/model:v1", "--tls-verify=false",
                             "--creds", "carol:pw") == image["manifest"]
