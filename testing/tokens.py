"""A token server of ours for `docker-registry`'s `auth.token` mode, on loopback.

It issues ES256 JWTs whose header carries an `x5c` chain (the signing certificate, issued
by the test CA that is the registry's `rootcertbundle`). Users authenticate with basic
auth; anonymous callers get `pull` on repositories under `public/`, authenticated users
get what they ask for. Every token request is recorded, so tests can check which scopes
mcpkg asked for and how often.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from testing.pki import Issued, TestCA

ISSUER = "mcpkg-test-issuer"
SERVICE = "mcpkg-test-registry"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenRequest:
    user: str | None
    scopes: list[str]


@dataclass
class TokenServer:
    ca: TestCA
    signer: Issued
    users: dict[str, str]
    expires_in: int = 300
    requests: list[TokenRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every token handed out
    mode: str = "normal"  # "normal" | "garbage" | "error" | "hang" | "huge"
    mode_times: int | None = None  # misbehave this many times, then back to "normal"
    released: threading.Event = field(default_factory=threading.Event)  # ends "hang"

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        scopes = [s for item in query.get("scope", []) for s in item.split(" ") if s]
        user = None
        header = handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                name, password = "", ""
            if self.users.get(name) != password:
                self.requests.append(TokenRequest(f"rejected:{name}", scopes))
                self._reply(handler, 401, b'{"details":"invalid credentials"}')
                return
            user = name
        self.requests.append(TokenRequest(user, scopes))
        mode = self.mode
        if self.mode_times is not None:
            self.mode_times -= 1
            if self.mode_times <= 0:
                self.mode, self.mode_times = "normal", None
        if mode == "hang":
            self.released.wait(60)
            return
        if mode == "huge":
            self._reply(handler, 200, b'{"token": "' + b"a" * (2 << 20) + b'"}')
            return
        if mode == "garbage":
            self._reply(handler, 200, b"<html>surprise</html>")
            return
        if mode == "error":
            self._reply(handler, 500, b"{}")
            return
        access: list[dict[str, object]] = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            anonymous_ok = [a for a in wanted if a == "pull" and name.startswith("public/")]
            granted = anonymous_ok if user is None else wanted
            access.append({"type": kind, "name": name, "actions": granted})
        token = self.sign(user or "", access)
        self.issued.append(token)
        body = {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._reply(handler, 200, json.dumps(body).encode())

    def sign(self, subject: str, access: list[dict[str, object]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.signer.der()).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + self.expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        assert isinstance(self.signer.key, ec.EllipticCurvePrivateKey)
        der = self.signer.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def start_token_server(users: dict[str, str], expires_in: int = 300) -> TokenServer:
    ca = TestCA("mcpkg token CA")
    return TokenServer(ca, ca.issue("mcpkg token signer"), users, expires_in)
