"""Credentials and tokens stay secret, and tokens are scoped (issue #10).

A whole session against the token-auth registry (login, push, pull, tags, failures, with
`--verbose` tracebacks and `--json` errors) is scanned for the password, its basic-auth
encoding and every token the token server issued: none may appear in any output, nor in
any file but the credential store. Then the token server's log shows that each token was
asked for exactly the repositories and actions of the request it served.
"""

from __future__ import annotations

import base64
from pathlib import Path

from testing.registry import Registry
from testing.tokens import TokenServer
from tests.conftest import Mcpkg, Result

PASSWORD = "token-pass"


def _files_containing(root: Path, secrets: list[bytes]) -> set[Path]:
    found = set()
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(secret in data for secret in secrets):
                found.add(path)
    return found


def test_secrets_never_leak(
    mcpkg: Mcpkg, fixtures: Path, token_registry: Registry, token_server: TokenServer, tmp_path: Path
) -> None:
    host = token_registry.host
    token_server.issued.clear()
    results: list[Result] = []

    def run(*args: str, **kwargs: object) -> Result:
        result = mcpkg(*args, **kwargs)  # type: ignore[arg-type]
        results.append(result)
        return result

    assert run("login", host, "-u", "bob", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    assert run("-v", "push", str(fixtures / "answer.wasm"), f"{host}/secret/a:1.0.0").exit_code == 0
    assert run("-v", "push", str(fixtures / "answer.wasm"), f"{host}/secret/b:1.0.0", "--json").exit_code == 0
    out = tmp_path / "a.wasm"
    assert run("-v", "pull", f"{host}/secret/a:1.0.0", "-o", str(out), "--json").exit_code == 0
    assert run("-v", "tags", f"{host}/secret/a").exit_code == 0
    assert run("-v", "inspect", f"{host}/secret/a:1.0.0", "--json").exit_code == 0
    assert run("-v", "pull", f"{host}/secret/missing:1.0.0", "--json").exit_code == 1
    token_server.mode = "error"
    try:
        assert run("-v", "pull", f"{host}/secret/c:1.0.0", "--json").exit_code == 1
    finally:
        token_server.mode = "normal"
    wrong = {"MCPKG_REGISTRY_USERNAME": "bob", "MCPKG_REGISTRY_PASSWORD": "wrong-" + PASSWORD}
    assert run("-v", "pull", f"{host}/secret/a:1.0.0", "--json", env=wrong).exit_code == 1

    issued = list(token_server.issued)
    assert len(issued) >= 3, "the session used bearer tokens"
    basic = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    secrets = [PASSWORD, basic, *issued, *(t.rsplit(".", 1)[1] for t in issued)]
    for result in results:
        text = result.stdout + result.stderr
        leaked = [s[:12] for s in secrets if s in text]
        assert not leaked, f"secret in output: {leaked}\n{text}"

    store = mcpkg.docker / "config.json"
    assert store.is_file()
    holders = _files_containing(mcpkg.home, [s.encode() for s in secrets]) | _files_containing(
        tmp_path, [s.encode() for s in secrets]
    )
    assert holders == {store}, f"secrets written outside the credential store: {sorted(map(str, holders))}"
    assert not any(token.encode() in store.read_bytes() for token in issued), "tokens are never persisted"

    assert run("logout", host).exit_code == 0
    assert _files_containing(mcpkg.home, [s.encode() for s in secrets]) == set()


def test_tokens_are_scoped_to_repository_and_action(
    mcpkg: Mcpkg, fixtures: Path, token_registry: Registry, token_server: TokenServer, tmp_path: Path
) -> None:
    host = token_registry.host
    bob = {"MCPKG_REGISTRY_USERNAME": "bob", "MCPKG_REGISTRY_PASSWORD": PASSWORD}

    token_server.requests.clear()
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{host}/scoped/one:1.0.0", env=bob)
    pushed = {s for r in token_server.requests for s in r.scopes}
    # (existence checks before the upload are reads: a pull token for the same repository)
    assert "repository:scoped/one:pull,push" in pushed
    assert pushed <= {"repository:scoped/one:pull,push", "repository:scoped/one:pull"}

    # the same layer into a second repository: a cross-repository mount asks for push on
    # the target and pull (only) on the source, nothing more
    token_server.requests.clear()
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{host}/scoped/two:1.0.0", env=bob)
    scopes = [sorted(r.scopes) for r in token_server.requests]
    assert {s for group in scopes for s in group} <= {
        "repository:scoped/two:pull,push",
        "repository:scoped/two:pull",
        "repository:scoped/one:pull",
    }, scopes
    assert ["repository:scoped/one:pull", "repository:scoped/two:pull,push"] in scopes

    # a pull asks for pull on that repository alone, even with push rights available
    fresh = Mcpkg(tmp_path / "fresh")
    token_server.requests.clear()
    fresh.ok("pull", f"{host}/scoped/two:1.0.0", env=bob)
    assert {s for r in token_server.requests for s in r.scopes} == {"repository:scoped/two:pull"}

    # tags too; and no request ever asked for a wildcard or the catalog
    token_server.requests.clear()
    fresh.ok("tags", f"{host}/scoped/one", env=bob)
    assert {s for r in token_server.requests for s in r.scopes} == {"repository:scoped/one:pull"}
    assert all(r.user == "bob" for r in token_server.requests)
