"""An accept-all authorization (mcpkg fixture): exports what a transport imports
(`server-auth`, `wasmcp:auth/helpers`) without outgoing HTTP. `decode` reads the claims of
a JWT's payload WITHOUT checking its signature (there are no keys to fetch), `authorize`
allows everything; the helpers follow the doc comments of `wasmcp:auth/helpers`."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import server_auth
from wit_world.imports import mcp, types

STANDARD = ("sub", "iss", "aud", "exp", "iat", "nbf", "jti", "scope", "scp", "cnf")


def _payload(jwt: bytes) -> dict[str, Any]:
    parts = bytes(jwt).split(b".")
    if len(parts) != 3:
        raise Err(None)
    body = parts[1] + b"=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(body))
    except ValueError:
        raise Err(None) from None
    if not isinstance(claims, dict):
        raise Err(None)
    return claims


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _scopes(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope", claims.get("scp", ""))
    if isinstance(scope, list):
        return [str(s) for s in scope]
    return [s for s in str(scope).split(" ") if s]


class ServerAuth(exports.ServerAuth):
    def decode(self, jwt: bytes) -> types.JwtClaims:
        claims = _payload(jwt)
        audience = claims.get("aud", [])
        cnf = claims.get("cnf")
        return types.JwtClaims(
            subject=str(claims.get("sub", "")),
            issuer=claims.get("iss") if isinstance(claims.get("iss"), str) else None,
            audience=[audience] if isinstance(audience, str) else [str(a) for a in audience],
            expiration=_number(claims.get("exp")),
            issued_at=_number(claims.get("iat")),
            not_before=_number(claims.get("nbf")),
            jwt_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
            scopes=_scopes(claims),
            confirmation=types.TokenConfirmation(x5t_s256=cnf.get("x5t#S256"), jkt=cnf.get("jkt"))
            if isinstance(cnf, dict)
            else None,
            custom_claims=[
                (key, value if isinstance(value, str) else json.dumps(value))
                for key, value in sorted(claims.items())
                if key not in STANDARD
            ],
        )

    def authorize(
        self,
        request: mcp.ClientMessage,
        claims: types.JwtClaims,
        session: mcp.Session | None,
        http_context: server_auth.HttpContext | None,
    ) -> bool:
        return True


class Helpers(exports.Helpers):
    def has_scope(self, claims: types.JwtClaims, scope: str) -> bool:
        return scope in claims.scopes

    def has_any_scope(self, claims: types.JwtClaims, scopes: list[str]) -> bool:
        return any(s in claims.scopes for s in scopes)

    def has_all_scopes(self, claims: types.JwtClaims, scopes: list[str]) -> bool:
        return all(s in claims.scopes for s in scopes)

    def get_scopes(self, claims: types.JwtClaims) -> list[str]:
        return list(claims.scopes)

    def has_audience(self, claims: types.JwtClaims, audience: str) -> bool:
        return audience in claims.audience

    def get_audiences(self, claims: types.JwtClaims) -> list[str]:
        return list(claims.audience)

    def is_expired(self, claims: types.JwtClaims, clock_skew_seconds: int | None) -> bool:
        if claims.expiration is None:
            return False
        return time.time() > claims.expiration + (clock_skew_seconds or 0)

    def is_valid_time(self, claims: types.JwtClaims, clock_skew_seconds: int | None) -> bool:
        skew = clock_skew_seconds or 0
        now = time.time()
        if claims.not_before is not None and now + skew < claims.not_before:
            return False
        return not self.is_expired(claims, clock_skew_seconds)

    def get_subject(self, claims: types.JwtClaims) -> str:
        return claims.subject

    def get_issuer(self, claims: types.JwtClaims) -> str | None:
        return claims.issuer

    def get_claim(self, claims: types.JwtClaims, key: str) -> str | None:
        return next((value for name, value in claims.custom_claims if name == key), None)

    def flatten_claims(self, claims: types.JwtClaims) -> list[tuple[str, str]]:
        flat = [("sub", claims.subject)]
        if claims.issuer is not None:
            flat.append(("iss", claims.issuer))
        flat.extend(("aud", a) for a in claims.audience)
        for name, value in (("exp", claims.expiration), ("iat", claims.issued_at), ("nbf", claims.not_before)):
            if value is not None:
                flat.append((name, str(value)))
        if claims.jwt_id is not None:
            flat.append(("jti", claims.jwt_id))
        if claims.scopes:
            flat.append(("scope", " ".join(claims.scopes)))
        flat.extend(claims.custom_claims)
        return flat
