"""HTTP statuses and transport failures as errors that say what to do (mcpkg/oci/translate.py)."""

from __future__ import annotations

import json

import pytest

from mcpkg.errors import AuthError, NotFoundError, RegistryError
from mcpkg.oci.retry import BACKOFF_BASE, TRANSIENT_STATUSES, backoff
from mcpkg.oci.translate import connection_error, registry_error_detail, translate_status


def oci_error(*errors: tuple[str, str]) -> bytes:
    return json.dumps({"errors": [{"code": c, "message": m} for c, m in errors]}).encode()


@pytest.mark.parametrize(
    ("status", "had_credentials", "kind", "words"),
    [
        (404, False, NotFoundError, "not found"),
        (401, False, AuthError, "requires authentication"),
        (401, True, AuthError, "rejected the credentials"),
        (403, True, AuthError, "denied access"),
        (429, False, RegistryError, "rate limiting"),
        (500, False, RegistryError, "HTTP 500"),
        (503, False, RegistryError, "HTTP 503"),
        (418, False, RegistryError, "HTTP 418"),
    ],
)
def test_statuses(status: int, had_credentials: bool, kind: type, words: str) -> None:
    error = translate_status(status, b"", "manifest of r/x:1", "reg.io", had_credentials)
    assert type(error) is kind and words in error.message and "manifest of r/x:1" in error.message
    if status in (401, 403):
        assert error.hint and ("login" in error.hint or "permission" in error.hint)


def test_the_registrys_own_error_codes_are_shown() -> None:
    body = oci_error(("MANIFEST_UNKNOWN", "manifest unknown"), ("NAME_UNKNOWN", "repository name not known"))
    assert registry_error_detail(body) == "MANIFEST_UNKNOWN: manifest unknown; NAME_UNKNOWN: repository name not known"
    assert "(MANIFEST_UNKNOWN" in translate_status(404, body, "x", "r", False).message


@pytest.mark.parametrize("body", [b"", b"<html>", b"[]", b'{"errors": "no"}', b"\xff\xfe"])
def test_bodies_that_are_not_oci_errors_add_nothing(body: bytes) -> None:
    assert registry_error_detail(body) == ""


def test_an_endless_error_body_is_cut() -> None:
    body = oci_error(*[("CODE", "m" * 1000)] * 50)
    assert len(registry_error_detail(body)) <= 500


class ReadTimeout(Exception):
    pass


class ConnectTimeout(Exception):
    pass


def test_transport_failures_say_which_kind() -> None:
    stalled = connection_error("registry r", ReadTimeout(), attempts=4, read_timeout=60)
    assert "stopped answering: no bytes for 60 s (after 4 attempts)" in stalled.message
    assert stalled.hint and "MCPKG_HTTP_TIMEOUT" in stalled.hint
    assert "no answer to the connection attempt" in connection_error("registry r", ConnectTimeout()).message
    refused = connection_error("registry r", ConnectionRefusedError())
    assert "cannot reach registry r (ConnectionRefusedError)" in refused.message


def test_backoff_grows_and_is_jittered() -> None:
    assert set(TRANSIENT_STATUSES) == {429, 500, 502, 503, 504}
    for attempt in range(4):
        waits = [backoff(attempt) for _ in range(50)]
        full = BACKOFF_BASE * 2**attempt
        assert all(full / 2 <= w <= full for w in waits) and len(set(waits)) > 1


def test_a_name_that_does_not_resolve_is_said_so() -> None:
    import socket

    from mcpkg.oci.http import NameResolutionError

    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as lookup:
            raise NameResolutionError("ghcr.io", lookup) from lookup
    except NameResolutionError as resolution:
        wrapped = resolution
    error = connection_error("registry ghcr.io", wrapped, host="ghcr.io", needed_for="repository ghcr.io/x")
    assert error.message == "cannot resolve ghcr.io (no network or DNS), needed for repository ghcr.io/x"
