"""The registry transport against real servers: token auth, TLS, credential helpers,
login/logout, chunked uploads, cross-repository mounts, retries, redirects, proxies."""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from pathlib import Path

import pytest

from mcpkg.config import RegistrySettings
from mcpkg.oci.blobs import upload_blob
from mcpkg.oci.client import RegistryClient
from mcpkg.oci.credentials import Credentials
from mcpkg.reference import Digest
from testing import raw
from testing.proxy import PagingProxy, paging_proxy
from testing.registry import Registry
from testing.tokens import TokenServer
from tests.conftest import ROOT, Mcpkg

BOB = {"MCPKG_REGISTRY_USERNAME": "bob", "MCPKG_REGISTRY_PASSWORD": "token-pass"}


# -- bearer tokens -------------------------------------------------------------------


def test_token_auth_push_then_anonymous_pull(
    mcpkg: Mcpkg, fixtures: Path, token_registry: Registry, token_server: TokenServer, tmp_path: Path
) -> None:
    ref = f"{token_registry.host}/public/answer:1.0.0"
    anonymous_push = mcpkg("push", str(fixtures / "answer.wasm"), ref, "--json")
    assert anonymous_push.exit_code == 1
    assert anonymous_push.json()["error"]["type"] == "authentication"

    token_server.requests.clear()
    mcpkg.ok("push", str(fixtures / "answer.wasm"), ref, env=BOB)
    push_scopes = {s for r in token_server.requests for s in r.scopes}
    assert "repository:public/answer:pull,push" in push_scopes
    assert all(r.user == "bob" for r in token_server.requests)

    token_server.requests.clear()
    other = Mcpkg(tmp_path / "anon")
    got = other.ok("pull", ref, "-o", str(tmp_path / "a.wasm"), "--json").json()
    assert (tmp_path / "a.wasm").read_bytes() == (fixtures / "answer.wasm").read_bytes()
    assert got["reference"] == ref
    assert [r.user for r in token_server.requests] == [None]  # one anonymous token, cached
    assert token_server.requests[0].scopes == ["repository:public/answer:pull"]

    private = other("pull", f"{token_registry.host}/private/nothing:1.0.0", "--json")
    assert private.exit_code == 1 and private.json()["error"]["type"] == "authentication"


def test_pull_token_is_not_reused_for_push(fixtures: Path, token_registry: Registry, token_server: TokenServer) -> None:
    wasm = (fixtures / "answer.wasm").read_bytes()
    creds = Credentials("bob", "token-pass")
    token_server.requests.clear()
    with RegistryClient(token_registry.host, credentials=creds) as client:
        assert not client.manifest_exists("mixed/one", "1.0.0")  # a pull-scoped request
        upload_blob(client, "mixed/one", Digest.parse(raw.digest_of(wasm)), len(wasm), wasm)
    scopes = [r.scopes for r in token_server.requests]
    assert scopes[0] == ["repository:mixed/one:pull"]
    assert ["repository:mixed/one:pull,push"] in scopes  # the push asked for its own token


def test_wrong_password_for_token_registry(mcpkg: Mcpkg, fixtures: Path, token_registry: Registry) -> None:
    result = mcpkg(
        "push",
        str(fixtures / "answer.wasm"),
        f"{token_registry.host}/x/y:1.0.0",
        env={"MCPKG_REGISTRY_USERNAME": "bob", "MCPKG_REGISTRY_PASSWORD": "nope-nope"},
    )
    assert result.exit_code == 1 and "rejected the credentials" in result.stderr
    assert "nope-nope" not in result.stderr + result.stdout


def test_expired_token_is_renewed(fixtures: Path, token_registry: Registry, token_server: TokenServer) -> None:
    raw_token_lifetime = token_server.expires_in
    token_server.expires_in = 6  # mcpkg renews 5 s before expiry: usable for ~1 s
    try:
        creds = Credentials("bob", "token-pass")
        with RegistryClient(token_registry.host, credentials=creds) as client:
            token_server.requests.clear()
            client.manifest_exists("public/answer", "1.0.0")
            client.manifest_exists("public/answer", "1.0.0")
            assert len(token_server.requests) == 1  # cached while valid
            time.sleep(1.2)
            assert client.manifest_exists("public/answer", "1.0.0")
            assert len(token_server.requests) == 2  # renewed, not sent expired
    finally:
        token_server.expires_in = raw_token_lifetime


def test_garbage_from_token_endpoint(mcpkg: Mcpkg, token_registry: Registry, token_server: TokenServer) -> None:
    token_server.mode = "garbage"
    try:
        result = mcpkg("pull", f"{token_registry.host}/public/answer:1.0.0", "--json")
    finally:
        token_server.mode = "normal"
    assert result.exit_code == 1
    assert "token service" in result.json()["error"]["message"]


# -- TLS -----------------------------------------------------------------------------


def test_tls_registry_with_ca_file(mcpkg: Mcpkg, fixtures: Path, tls_registry: Registry, tmp_path: Path) -> None:
    assert tls_registry.ca_file is not None
    ref = f"{tls_registry.host}/secure/answer:1.0.0"
    no_ca = {"REQUESTS_CA_BUNDLE": None, "SSL_CERT_FILE": None, "CURL_CA_BUNDLE": None}
    mcpkg.write_config(f'[registries."{tls_registry.host}"]\nplain-http = false\n')
    refused = mcpkg("push", str(fixtures / "answer.wasm"), ref, env=no_ca)
    assert refused.exit_code == 1 and "TLS verification failed" in refused.stderr

    mcpkg.write_config(f'[registries."{tls_registry.host}"]\nca-file = "{tls_registry.ca_file}"\n')
    mcpkg.ok("push", str(fixtures / "answer.wasm"), ref, env=no_ca)
    mcpkg.ok("pull", ref, "-o", str(tmp_path / "a.wasm"), env=no_ca)
    assert (tmp_path / "a.wasm").read_bytes() == (fixtures / "answer.wasm").read_bytes()

    mcpkg.write_config(f'[registries."{tls_registry.host}"]\nplain-http = false\n')
    with_env = mcpkg("tags", ref.rsplit(":", 1)[0], env={**no_ca, "SSL_CERT_FILE": str(tls_registry.ca_file)})
    assert with_env.exit_code == 0 and with_env.stdout.split() == ["1.0.0"]


# -- credentials, login, logout ------------------------------------------------------


def test_login_logout_with_docker_config(mcpkg: Mcpkg, fixtures: Path, auth_registry: Registry) -> None:
    bad = mcpkg("login", auth_registry.host, "-u", "alice", "--password-stdin", input="wrong\n")
    assert bad.exit_code == 1 and not (mcpkg.docker / "config.json").exists()
    mcpkg.ok("login", auth_registry.host, "-u", "alice", "--password-stdin", input="s3cret-pass\n")
    config_file = mcpkg.docker / "config.json"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    stored = json.loads(config_file.read_text())["auths"][auth_registry.host]["auth"]
    assert base64.b64decode(stored) == b"alice:s3cret-pass"
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{auth_registry.host}/login/answer:1.0.0")
    mcpkg.ok("logout", auth_registry.host)
    assert auth_registry.host not in json.loads(config_file.read_text())["auths"]
    assert mcpkg("pull", f"{auth_registry.host}/login/answer:1.0.0").exit_code == 1


def test_credential_helper_round_trip(mcpkg: Mcpkg, fixtures: Path, auth_registry: Registry, tmp_path: Path) -> None:
    store = tmp_path / "helper-store.json"
    env = {
        "PATH": f"{ROOT / 'testing'}{os.pathsep}{os.environ['PATH']}",
        "MCPKG_TEST_HELPER_STORE": str(store),
    }
    (mcpkg.docker / "config.json").write_text(json.dumps({"credsStore": "mcpkgtest"}))
    login = mcpkg("login", auth_registry.host, "-u", "alice", "--password-stdin", input="s3cret-pass\n", env=env)
    assert login.exit_code == 0, login.stderr
    assert json.loads(store.read_text())[auth_registry.host] == {"Username": "alice", "Secret": "s3cret-pass"}
    assert "auths" not in json.loads((mcpkg.docker / "config.json").read_text())  # nothing in the file
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{auth_registry.host}/helper/answer:1.0.0", env=env)
    mcpkg.ok("logout", auth_registry.host, env=env)
    assert json.loads(store.read_text()) == {}
    # credHelpers for one registry wins over credsStore
    (mcpkg.docker / "config.json").write_text(
        json.dumps({"credsStore": "absent-helper", "credHelpers": {auth_registry.host: "mcpkgtest"}})
    )
    store.write_text(json.dumps({auth_registry.host: {"Username": "alice", "Secret": "s3cret-pass"}}))
    mcpkg.ok("pull", f"{auth_registry.host}/helper/answer:1.0.0", env=env)
    # a helper that is not installed is a clear error
    (mcpkg.docker / "config.json").write_text(json.dumps({"credsStore": "absent-helper"}))
    missing = mcpkg("pull", f"{auth_registry.host}/helper/answer:1.0.0", env=env)
    assert missing.exit_code == 1 and "docker-credential-absent-helper" in missing.stderr


# -- uploads -------------------------------------------------------------------------


def test_chunked_push_and_cross_repository_mount(
    mcpkg: Mcpkg, fixtures: Path, paging: PagingProxy, tmp_path: Path
) -> None:
    large = fixtures / "large.wasm"
    size = large.stat().st_size
    assert size >= 20 * 1024 * 1024
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    paging.clear()
    first = mcpkg.ok("push", str(large), f"{paging.host}/big/one:1.0.0", "--json", env=env).json()
    patches = [e for e in paging.log if e.method == "PATCH"]
    assert len(patches) == -(-size // (4 * 1024 * 1024))
    assert all(0 < e.length <= 4 * 1024 * 1024 for e in patches)
    assert sum(e.length for e in patches) == size

    paging.clear()
    second = mcpkg.ok("push", str(large), f"{paging.host}/big/two:1.0.0", "--json", env=env).json()
    assert second["blobs-mounted"] == 2 and second["blobs-uploaded"] == 0
    uploads = [e for e in paging.log if e.path.startswith("/v2/big/two/blobs/uploads") and e.method != "POST"]
    assert uploads == []  # no PATCH or PUT of blob bytes into the second repository

    fresh = Mcpkg(tmp_path / "fresh")
    out = tmp_path / "large.wasm"
    got = fresh.ok("pull", f"{paging.host}/big/two:1.0.0", "-o", str(out), "--json").json()
    assert got["layer-digest"] == first["layer-digest"]
    assert out.read_bytes() == large.read_bytes()


# -- transient failures ----------------------------------------------------------------


def test_503_then_success(mcpkg: Mcpkg, fixtures: Path, paging: PagingProxy) -> None:
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{paging.host}/retry/a:1.0.0")
    paging.clear()
    paging.inject("GET", r"/manifests/1\.0\.0$", 503)
    paging.inject("GET", r"/blobs/sha256:", 502)
    mcpkg.ok("pull", f"{paging.host}/retry/a:1.0.0")
    manifest_gets = [e for e in paging.log if e.method == "GET" and e.path.endswith("/manifests/1.0.0")]
    assert len(manifest_gets) == 2


def test_429_with_retry_after(mcpkg: Mcpkg, fixtures: Path, paging: PagingProxy) -> None:
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{paging.host}/retry/b:1.0.0")
    paging.clear()
    paging.inject("GET", r"/tags/list", 429, headers={"Retry-After": "1"}, times=2)
    started = time.monotonic()
    assert mcpkg.ok("tags", f"{paging.host}/retry/b").stdout.split() == ["1.0.0"]
    waited = time.monotonic() - started
    assert len([e for e in paging.log if e.path.endswith("/tags/list")]) == 3
    assert waited >= 2.0  # Retry-After was honoured twice (a behaviour, not a speed check)


def test_persistent_500_fails_after_bounded_retries(mcpkg: Mcpkg, fixtures: Path, paging: PagingProxy) -> None:
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{paging.host}/retry/c:1.0.0")
    paging.clear()
    paging.inject("GET", r"/manifests/", 500, times=1000, body=b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
    result = mcpkg("pull", f"{paging.host}/retry/c:1.0.0", "--json")
    paging.clear()
    assert result.exit_code == 1
    message = result.json()["error"]["message"]
    assert "HTTP 500" in message and "after 4 attempts" in message and "boom" in message
    assert mcpkg.cached_blobs() == []


def test_429_with_long_retry_after_is_not_waited_out(mcpkg: Mcpkg, paging: PagingProxy) -> None:
    paging.inject("GET", r"/tags/list", 429, headers={"Retry-After": "3600"}, times=5)
    result = mcpkg("tags", f"{paging.host}/retry/d")
    paging.clear()
    assert result.exit_code == 1 and "rate limiting" in result.stderr


# -- redirects and proxies -------------------------------------------------------------


def test_blob_redirect_is_followed_without_credentials(
    mcpkg: Mcpkg, fixtures: Path, auth_registry: Registry, tmp_path: Path
) -> None:
    env = {"MCPKG_REGISTRY_USERNAME": "alice", "MCPKG_REGISTRY_PASSWORD": "s3cret-pass"}
    with paging_proxy(auth_registry.host, storage=auth_registry.root) as proxy:
        mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{proxy.host}/redir/g:1.0.0", env=env)
        proxy.redirect_blobs = True
        out = tmp_path / "g.wasm"
        mcpkg.ok("pull", f"{proxy.host}/redir/g:1.0.0", "-o", str(out), env=env)
        assert out.read_bytes() == (fixtures / "greeter.wasm").read_bytes()
        assert proxy.storage_requests and not any(proxy.storage_requests)  # followed, no credentials


def test_redirect_loop_is_bounded(mcpkg: Mcpkg, fixtures: Path, paging: PagingProxy) -> None:
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{paging.host}/redir/loop:1.0.0")
    paging.inject(
        "GET", r"/blobs/sha256:", 307, headers={"Location": "/v2/redir/loop/blobs/sha256:" + "0" * 64}, times=50
    )
    result = mcpkg("pull", f"{paging.host}/redir/loop:1.0.0")
    paging.clear()
    assert result.exit_code == 1 and "redirects" in result.stderr


def test_http_proxy_and_no_proxy_are_honoured(mcpkg: Mcpkg, fixtures: Path, registry: Registry) -> None:
    with paging_proxy(registry.host) as forward:
        ref = f"{registry.host}/proxied/a:1.0.0"
        mcpkg.ok("push", str(fixtures / "answer.wasm"), ref, env={"HTTP_PROXY": f"http://{forward.host}"})
        assert forward.log and all(e.absolute for e in forward.log)
        forward.clear()
        mcpkg.ok("pull", ref, env={"HTTP_PROXY": f"http://{forward.host}", "NO_PROXY": "127.0.0.1"})
        assert forward.log == []


def test_https_proxy_tunnels_with_its_credentials(
    mcpkg: Mcpkg, fixtures: Path, tls_registry: Registry, tmp_path: Path
) -> None:
    """HTTPS through an http:// proxy: a CONNECT tunnel carrying the proxy's credentials
    from the URL, TLS verified end to end; a refusal (407) is named once, not retried."""
    assert tls_registry.ca_file is not None
    mcpkg.write_config(f'[registries."{tls_registry.host}"]\nca-file = "{tls_registry.ca_file}"\n')
    ref = f"{tls_registry.host}/tunnel/a:1.0.0"
    with paging_proxy(tls_registry.host) as proxy:
        proxy.proxy_credentials = ("pat", "s3cret:x")
        env = {"HTTPS_PROXY": f"http://pat:s3cret%3Ax@{proxy.host}"}
        mcpkg.ok("push", str(fixtures / "answer.wasm"), ref, env=env)
        mcpkg.ok("pull", ref, "-o", str(tmp_path / "a.wasm"), env={**env, "MCPKG_CACHE_DIR": str(tmp_path / "c")})
        assert (tmp_path / "a.wasm").read_bytes() == (fixtures / "answer.wasm").read_bytes()
        tunnels = [e for e in proxy.log if e.method == "CONNECT"]
        assert tunnels and all(e.path == tls_registry.host and e.proxy_authorized for e in tunnels)
        assert len(tunnels) == len(proxy.log)  # nothing went around the tunnel

        proxy.clear()
        refused = mcpkg("tags", ref.rsplit(":", 1)[0], env={"HTTPS_PROXY": f"http://{proxy.host}"})
        assert refused.exit_code == 1
        assert f"the proxy {proxy.host} refused the tunnel to {tls_registry.host}" in refused.stderr
        assert "407" in refused.stderr and "HTTPS_PROXY" in refused.stderr
        assert [e.method for e in proxy.log] == ["CONNECT"]  # a refusal is not retried

        proxy.clear()
        exempt = {**env, "NO_PROXY": "localhost,127.0.0.0/8"}
        mcpkg.ok("tags", ref.rsplit(":", 1)[0], env=exempt)
        assert proxy.log == []


@pytest.mark.parametrize("value", [True, False])
def test_loopback_scheme_rules(value: bool) -> None:
    settings = RegistrySettings(plain_http=value)
    assert settings.uses_plain_http(loopback=True) is value
    assert RegistrySettings().uses_plain_http(loopback=True) is True
    assert RegistrySettings().uses_plain_http(loopback=False) is False
    assert RegistrySettings(ca_file=Path("/x")).uses_plain_http(loopback=True) is False
