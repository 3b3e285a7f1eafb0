"""`mcpkg run BACKEND.wasm --http [HOST:]PORT`: host a wasi:mcp backend and serve MCP over
the streamable HTTP transport (MCP 2025-06-18 and 2025-11-25), with the standard library's
threading HTTP server and the same `Session` as stdio (docs/wasi-mcp.md, docs/design.md).

One endpoint, `/mcp`:
- POST of one JSON-RPC message. A request is answered as `text/event-stream` when the
  client accepts it (the notifications the backend sends while handling it are events
  before the reply), else as `application/json`; a notification or a response: 202.
- `initialize` opens a session (`Mcp-Session-Id`) with its own backend instance, made from
  the one compiled component; a session's requests run one at a time on its instance.
  Other requests need the session's id: none is 400, an unknown or ended one 404.
- GET with a session id: an SSE stream of the messages the backend sends outside a
  request (a restart's warning, logs of its `run`), with keep-alive comments.
- DELETE with a session id ends the session and drops its instance (204).

Limits: `MAX_SESSIONS` live sessions (a further `initialize` ends the one unused the
longest; 503 when all are busy with a request), a session idle for
`IDLE_SECONDS` is ended, a body over `MAX_BODY` is 413. Security (DNS rebinding): the
`Host` header must name the address served (or a loopback form of it) and an `Origin`, when
sent, must be a loopback one, else 403; an unsupported `MCP-Protocol-Version` is 400
(`HEADER_VERSIONS`).
There is no authentication: mcpkg listens on 127.0.0.1 unless told another address.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from mcpkg.cache import Cache
from mcpkg.errors import McpkgError, UsageError
from mcpkg.host.backend_host import WasmBackend, refuse_unhostable
from mcpkg.host.bounds import Bounds
from mcpkg.host.grants import Grants
from mcpkg.host.mcp_json import INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, PROTOCOL_VERSIONS, RpcError
from mcpkg.host.mcp_session import Message, Session, error_response
from mcpkg.host.runner import DEFAULT_COMPILER, Compiler, Prepared, load_component
from mcpkg.reference import Digest
from mcpkg.wasm.model import ComponentModel

ENDPOINT = "/mcp"
MAX_SESSIONS = 16
IDLE_SECONDS = 600.0
MAX_BODY = 4 * 1024 * 1024
DRAINED_BODY = 4 * MAX_BODY  # a larger body is not even read: the connection is closed
KEEP_ALIVE_SECONDS = 15.0
HELD_MESSAGES = 256  # a session's messages waiting for its GET stream (the oldest go first)
DEFAULT_HOST = "127.0.0.1"
SERVER_ERROR = -32000  # JSON-RPC's implementation-defined server errors start here
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# the `MCP-Protocol-Version` headers accepted: the versions mcpkg speaks, and 2025-03-26,
# which MCP tells a server to assume when the header is absent (accepted): naming it is the same
HEADER_VERSIONS = (*PROTOCOL_VERSIONS, "2025-03-26")


@dataclass(frozen=True)
class Address:
    host: str  # without brackets
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(text: str) -> Address:
    """`--http [HOST:]PORT` -> the address to listen on (127.0.0.1 when no host is given;
    an IPv6 host in brackets)."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host = DEFAULT_HOST
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address without brackets: ambiguous
    if host.lower() == "localhost":
        host = DEFAULT_HOST
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(
            f"--http {text!r} is not [HOST:]PORT",
            "for example --http 8080 (127.0.0.1:8080), --http 127.0.0.1:8080 or --http [::1]:8080",
        )
    return Address(host, int(port_text))


# --- sessions ------------------------------------------------------------------------------


class Instance(Protocol):
    """What the sessions use of a backend instance (a `WasmBackend`)."""

    session: Session
    trapped: bool

    def recover(self) -> None: ...


class HostedSession:
    """One MCP session: its own backend instance, used by one request at a time."""

    def __init__(self, session_id: str, backend: Instance) -> None:
        self.id = session_id
        self.backend = backend
        self.lock = threading.Lock()  # one request at a time on the instance
        self.last_used = time.monotonic()
        self.ended = False
        self.streaming = False  # a GET stream is open
        self._changed = threading.Condition()
        self._held: deque[Message] = deque(maxlen=HELD_MESSAGES)
        # where the backend's notifications go: the SSE reply being written, else the GET stream
        self.sink: Callable[[Message], None] | None = None
        backend.session.emit = self._emit

    def _emit(self, message: Message) -> None:
        if self.sink is not None:
            self.sink(message)
            return
        with self._changed:
            self._held.append(message)
            self._changed.notify_all()

    def next_message(self, timeout: float) -> Message | None:
        """The next message for the GET stream, or None after `timeout` or when ended."""
        with self._changed:
            if not self._held and not self.ended:
                self._changed.wait(timeout)
            return self._held.popleft() if self._held and not self.ended else None

    def claim_stream(self) -> bool:
        """True for the one GET stream the session may have open."""
        with self._changed:
            if self.streaming:
                return False
            self.streaming = True
            return True

    def end(self) -> None:
        with self._changed:
            self.ended = True
            self._changed.notify_all()


class Sessions:
    """The live sessions: at most `limit`, each ended after `idle` seconds without a request."""

    def __init__(self, new_backend: Callable[[], Instance], first: Instance | None, limit: int, idle: float) -> None:
        self.new_backend = new_backend
        self.limit = limit
        self.idle = idle
        self._lock = threading.Lock()
        self._live: dict[str, HostedSession] = {}
        self._starting = 0
        self._spare = first  # started at start-up (proving the backend starts): the first session's

    def open(self) -> HostedSession | None:
        """A new session with a fresh instance. When `limit` sessions are live, the one
        unused the longest ends to make room (its client gets 404 and initializes again, as
        MCP says): many clients never send DELETE (the MCP SDKs' `close()` does not), and a
        bound that refused new sessions would lock every new client out until the idle
        ones time out. None when all are busy with a request."""
        with self._lock:
            self._sweep()
            if len(self._live) + self._starting >= self.limit and not self._evict():
                return None
            self._starting += 1
            backend, self._spare = self._spare, None
        try:
            if backend is None:
                backend = self.new_backend()
            hosted = HostedSession(secrets.token_hex(16), backend)
            with self._lock:
                self._live[hosted.id] = hosted
            return hosted
        finally:
            with self._lock:
                self._starting -= 1

    def get(self, session_id: str) -> HostedSession | None:
        with self._lock:
            self._sweep()
            hosted = self._live.get(session_id)
            if hosted is not None:
                hosted.last_used = time.monotonic()
            return hosted

    def end(self, session_id: str) -> bool:
        with self._lock:
            hosted = self._live.pop(session_id, None)
        if hosted is None:
            return False
        hosted.end()  # the instance goes with the last reference to it
        return True

    def end_all(self) -> None:
        with self._lock:
            ended, self._live = list(self._live.values()), {}
        for hosted in ended:
            hosted.end()

    def _evict(self) -> bool:
        """End the session unused the longest that is not handling a request; the caller
        holds the lock. False when there is none."""
        idle = [hosted for hosted in self._live.values() if not hosted.lock.locked()]
        if not idle:
            return False
        oldest = min(idle, key=lambda hosted: hosted.last_used)
        del self._live[oldest.id]
        oldest.end()
        return True

    def _sweep(self) -> None:
        """End the idle sessions (not one handling a request); the caller holds the lock."""
        now = time.monotonic()
        for session_id, hosted in list(self._live.items()):
            if now - hosted.last_used > self.idle and not hosted.lock.locked():
                del self._live[session_id]
                hosted.end()


# --- HTTP ----------------------------------------------------------------------------------


class McpHttpServer(ThreadingHTTPServer):
    daemon_threads = True  # open GET streams do not hold the process at exit

    def __init__(self, address: Address, sessions: Sessions) -> None:
        self.address_family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
        super().__init__((address.host, address.port), McpHandler)
        self.sessions = sessions
        self.address = Address(address.host, int(self.server_address[1]))  # the port chosen for 0
        names = {*(_LOOPBACK_NAMES if self.address.loopback else ()), self.address.host}
        hosts = {(f"[{n}]" if ":" in n else n).lower() for n in names}
        self.allowed_hosts = {f"{h}:{self.address.port}" for h in hosts}
        if self.address.port == 80:
            self.allowed_hosts |= hosts
        self.allowed_origin_hosts = {*_LOOPBACK_NAMES, self.address.host.lower()}

    @property
    def url(self) -> str:
        return f"http://{self.address.netloc}{ENDPOINT}"


def _rpc_error(code: int, message: str) -> Message:
    return error_response(None, RpcError(code, message))


class McpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for JSON answers; an SSE answer closes its connection
    server_version = "mcpkg"

    @property
    def host(self) -> McpHttpServer:
        return cast(McpHttpServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log: stderr is for the backend and mcpkg's own diagnostics

    # --- answers --------------------------------------------------------------------------

    def _answer(self, status: int, body: Message | None = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status: int, message: str, code: int = SERVER_ERROR) -> None:
        # a body left unread must not be taken for the next request: the connection ends,
        # and the client is told so (else it may send its next request on a closed socket)
        self.close_connection = True
        self._answer(status, _rpc_error(code, message), {"Connection": "close"})

    def _start_stream(self, session_id: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the stream ends with the connection
        if session_id is not None:
            self.send_header("Mcp-Session-Id", session_id)
        self.end_headers()
        self.close_connection = True

    def _event(self, message: Message) -> None:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        self.wfile.write(f"event: message\ndata: {data}\n\n".encode())
        self.wfile.flush()

    # --- checks every method makes ---------------------------------------------------------

    def _checked(self) -> bool:
        """Host, Origin, path and protocol version; False when refused (answered)."""
        host = (self.headers.get("Host") or "").lower()
        if host not in self.host.allowed_hosts:
            self._refuse(403, f"Host {host!r} is not the address mcpkg serves (DNS rebinding protection)")
            return False
        origin = self.headers.get("Origin")
        if origin is not None and not self._origin_allowed(origin):
            self._refuse(403, f"Origin {origin!r} is not allowed (only loopback origins)")
            return False
        if urlsplit(self.path).path != ENDPOINT:
            self._refuse(404, f"mcpkg serves MCP at {ENDPOINT}")
            return False
        version = self.headers.get("MCP-Protocol-Version")
        if version is not None and version not in HEADER_VERSIONS:
            self._refuse(
                400, f"unsupported MCP-Protocol-Version {version!r}: {', '.join(HEADER_VERSIONS)}", INVALID_REQUEST
            )
            return False
        return True

    def _origin_allowed(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
            hostname = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and hostname in self.host.allowed_origin_hosts

    def _session(self) -> HostedSession | None:
        session_id = self.headers.get("Mcp-Session-Id")
        if not session_id:
            self._refuse(400, "no Mcp-Session-Id: initialize first", INVALID_REQUEST)
            return None
        hosted = self.host.sessions.get(session_id)
        if hosted is None:
            self._refuse(404, "unknown or ended session: initialize a new one")
        return hosted

    def _body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self._refuse(411, "send the message with a Content-Length")
            return None
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.strip().isdigit():
            self._refuse(411, "send the message with a Content-Length")
            return None
        length = int(length_text)
        if length > MAX_BODY:
            while 0 < length <= DRAINED_BODY:  # read and dropped, so that the client hears the 413
                chunk = self.rfile.read(min(length, 65536))
                length = length - len(chunk) if chunk else 0
            self._refuse(413, f"a message may have at most {MAX_BODY} bytes")
            return None
        return self.rfile.read(length)

    # --- methods ---------------------------------------------------------------------------

    def do_POST(self) -> None:
        if not self._checked():
            return
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._refuse(415, "send one JSON-RPC message as application/json")
            return
        accept = (self.headers.get("Accept") or "*/*").lower()
        stream = "text/event-stream" in accept
        if not stream and "application/json" not in accept and "*/*" not in accept:
            self._refuse(406, "accept application/json or text/event-stream")
            return
        body = self._body()
        if body is None:
            return
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            self._refuse(400, f"parse error: {exc}", PARSE_ERROR)
            return
        is_request = isinstance(message, dict) and "id" in message and isinstance(message.get("method"), str)
        hosted = self._open() if is_request and message["method"] == "initialize" else self._session()
        if hosted is None:
            return
        if not is_request:
            with hosted.lock:
                reply = hosted.backend.session.handle_message(message)
            if reply is None:
                self._answer(202)
            else:  # not a JSON-RPC message
                self._answer(400, reply)
            return
        self._request(hosted, message, stream)

    def _open(self) -> HostedSession | None:
        try:
            hosted = self.host.sessions.open()
        except McpkgError as exc:
            print(f"mcpkg: a new session's backend did not start: {exc.message}", file=sys.stderr, flush=True)
            self._refuse(500, f"the backend did not start: {exc.message}", INTERNAL_ERROR)
            return None
        if hosted is None:
            self._refuse(503, f"{self.host.sessions.limit} sessions are live and busy with requests: retry later")
        return hosted

    def _request(self, hosted: HostedSession, message: Message, stream: bool) -> None:
        started = False
        initialize = message["method"] == "initialize"

        def event(notification: Message) -> None:
            nonlocal started
            try:
                if not started:
                    started = True
                    self._start_stream(None if hosted.ended else hosted.id)
                self._event(notification)
            except OSError:
                pass  # the client went away: the request still completes on the instance

        with hosted.lock:
            hosted.sink = event if stream else None
            try:
                reply = hosted.backend.session.handle_message(message)
                if initialize and reply is not None and "error" in reply:
                    self.host.sessions.end(hosted.id)  # no session for a failed initialize
                if reply is not None and stream:
                    event(reply)
                elif reply is not None:
                    self._answer(200, reply, None if hosted.ended else {"Mcp-Session-Id": hosted.id})
            finally:
                hosted.sink = None
                hosted.last_used = time.monotonic()
            if hosted.backend.trapped:
                self._recover(hosted)

    def _recover(self, hosted: HostedSession) -> None:
        """A fresh instance after a trap (its warning goes to the GET stream); a session whose
        backend cannot start again ends."""
        try:
            hosted.backend.recover()
        except McpkgError as exc:
            print(f"mcpkg: session ended: {exc.message}", file=sys.stderr, flush=True)
            self.host.sessions.end(hosted.id)

    def do_GET(self) -> None:
        if not self._checked():
            return
        if "text/event-stream" not in (self.headers.get("Accept") or "").lower():
            self._refuse(406, "the GET stream is text/event-stream: accept it")
            return
        hosted = self._session()
        if hosted is None:
            return
        if not hosted.claim_stream():
            self._refuse(409, "this session's GET stream is open already")
            return
        try:
            self._start_stream(hosted.id)
            while not hosted.ended:
                message = hosted.next_message(KEEP_ALIVE_SECONDS)
                if message is not None:
                    self._event(message)
                elif not hosted.ended:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
        except OSError:
            pass  # the client closed the stream
        finally:
            hosted.streaming = False

    def do_DELETE(self) -> None:
        if not self._checked():
            return
        hosted = self._session()
        if hosted is not None:
            self.host.sessions.end(hosted.id)
            self._answer(204)


# --- the host ------------------------------------------------------------------------------


def serve_backend_http(
    cache: Cache,
    server: Path,
    model: ComponentModel,
    digest: Digest,
    grants: Grants,
    address: Address,
    on_compile: Callable[[], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
    on_ready: Callable[[str, bool], None] | None = None,
    bounds: Bounds | None = None,
) -> tuple[int, Prepared]:
    """Serve MCP over streamable HTTP at `address` until interrupted; (exit code, how the
    backend was prepared). The backend is compiled once; each session instantiates it,
    kept in `bounds` as over stdio (a call blocked in a WASI call past its timeout holds
    only its own session: each session has its own thread)."""
    bounds = bounds or Bounds()
    refuse_unhostable(model, server, grants.http)
    engine, component, prepared = load_component(cache, server, str(digest), on_compile, compiler, bounds.epochs)

    def new_backend() -> WasmBackend:
        backend = WasmBackend(server, model, engine, component, grants, bounds)
        backend.start()
        return backend

    sessions = Sessions(new_backend, new_backend(), MAX_SESSIONS, IDLE_SECONDS)  # it starts, or stop now
    try:
        httpd = McpHttpServer(address, sessions)
    except OSError as exc:
        raise McpkgError(f"cannot listen on {address.netloc}: {exc.strerror or exc}") from exc
    try:
        if on_ready is not None:
            on_ready(httpd.url, httpd.address.loopback)  # the URL, and whether it is loopback
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        sessions.end_all()
    return 0, prepared
