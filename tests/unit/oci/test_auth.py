"""WWW-Authenticate challenges, token scopes and token responses (mcpkg/oci/auth.py)."""

from __future__ import annotations

import json

import pytest

from mcpkg.errors import RegistryError
from mcpkg.oci.auth import MAX_TOKEN_RESPONSE, _parse_token_response, parse_challenge, repository_scope


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        (
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"',
            "bearer",
            {"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:a/b:pull"},
        ),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        ("bearer realm=https://r/t, service=r", "bearer", {"realm": "https://r/t", "service": "r"}),
        ('Bearer REALM="x", Error="insufficient_scope"', "bearer", {"realm": "x", "error": "insufficient_scope"}),
        ('Bearer realm="a \\"quoted\\" realm"', "bearer", {"realm": 'a \\"quoted\\" realm'}),
    ],
)
def test_challenges_parse(header: str, scheme: str, params: dict[str, str]) -> None:
    challenge = parse_challenge(header)
    assert challenge is not None and challenge.scheme == scheme and challenge.params == params


@pytest.mark.parametrize("header", [None, "", "   ", "!!! realm=x", '"quoted" realm=x'])
def test_unintelligible_challenges_are_none(header: str | None) -> None:
    assert parse_challenge(header) is None


def test_scopes_ask_for_the_least() -> None:
    assert repository_scope("team/tool", push=False) == "repository:team/tool:pull"
    assert repository_scope("team/tool", push=True) == "repository:team/tool:pull,push"


def test_token_responses() -> None:
    assert _parse_token_response(b'{"token": "abc", "expires_in": 300}', "r") == ("abc", 300.0)
    assert _parse_token_response(b'{"access_token": "xyz"}', "r")[0] == "xyz"
    token, lifetime = _parse_token_response(b'{"token": "abc", "expires_in": -5}', "r")
    assert token == "abc" and lifetime > 0  # nonsense lifetimes fall back to the default
    assert _parse_token_response(b'{"token": "t", "expires_in": true}', "r")[1] != 1.0


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"token": ""}',
        b'{"token": 42}',
        b'{"token": "with\\r\\nheader injection"}',
        b'{"token": "has space"}',
        json.dumps({"token": "x" * MAX_TOKEN_RESPONSE}).encode(),
    ],
)
def test_garbage_token_responses_are_refused(body: bytes) -> None:
    with pytest.raises(RegistryError, match="invalid response"):
        _parse_token_response(body, "reg.example")
