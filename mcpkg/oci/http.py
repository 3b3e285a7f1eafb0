"""mcpkg's HTTP/1.1 client: the standard library's `http.client`, plus what a registry
client needs, and nothing else.

Why not requests: importing requests (and urllib3, charset_normalizer, idna, cookies...)
cost every registry command about 80 ms of start-up on the reference machine, more than
a 96 MiB blob takes to arrive over loopback, and its response layer copies each chunk
once more. `http.client` is already what the standard library's own tools use; this
module adds the parts a registry client needs on top of it:

- `Session`: keep-alive connections, one idle connection per origin, reused when the
  previous response was read to its end (a response closed early closes its
  connection). A request sent on a reused connection that the server had meanwhile
  closed is sent once more on a fresh one, before any byte of an answer was read: that
  is not a retry of the request, the first one never arrived. Not thread-safe: one
  session per thread (`ops.context` keeps one client per thread).
- Timeouts: `(connect, read)`. The connection (and TLS handshake) waits at most
  `connect` seconds; then every read of the socket waits at most `read` seconds.
- TLS: the CA file the caller names, else the system's trust store (OpenSSL's default
  paths, so `SSL_CERT_FILE`/`SSL_CERT_DIR` apply), else certifi's bundle on a system
  that has no store at all; certificate and host name always verified. `ssl` is only
  imported for an https URL.
- Proxies, from the environment as curl reads them: `https_proxy`/`HTTPS_PROXY` for
  https URLs (a `CONNECT` tunnel), `http_proxy`/`HTTP_PROXY` for http URLs (requests in
  absolute form), `all_proxy`/`ALL_PROXY` as the fallback, credentials in the proxy
  URL sent as `Proxy-Authorization`; `no_proxy`/`NO_PROXY`: `*`, host names (a name
  also matches its subdomains; a leading dot is allowed), `host:port`, IP addresses and
  CIDR ranges. Only http:// proxies: an https:// or socks proxy is a clear error.
- Redirects are never followed here (the registry client decides which to follow and
  drops credentials), no `Accept-Encoding` is sent, so bodies arrive as stored (digests
  are over stored bytes), and there are no cookies.

Failures are `TransportError`s (an `OSError`) named after what happened, which
`translate.connection_error` turns into messages: `NameResolutionError` (with the
host), `ConnectTimeout`, `ConnectError`, `TlsError`, `ReadTimeout`, and
`ProtocolError` (a malformed answer, or a body that ended before its announced length).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import os
import select
import socket
from collections.abc import Mapping
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

if TYPE_CHECKING:
    import ssl

Timeout = tuple[float, float]  # (connect, read) seconds
_DEFAULT_PORTS = {"http": 80, "https": 443}
_IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE")


# -- errors ----------------------------------------------------------------------------


class TransportError(OSError):
    """No (complete) HTTP answer: the connection, TLS, or the bytes on the wire failed."""


class NameResolutionError(TransportError):
    def __init__(self, host: str, cause: BaseException) -> None:
        super().__init__(f"cannot resolve {host}: {cause}")
        self.host = host


class ConnectTimeout(TransportError):
    pass


class ConnectError(TransportError):
    pass


class TlsError(TransportError):
    pass


class ProxyError(ConnectError):
    """The proxy the environment names refused or cannot be used (a message for people)."""


class ReadTimeout(TransportError):
    pass


class ProtocolError(TransportError):
    pass


# -- proxies ---------------------------------------------------------------------------


def _env(name: str) -> str:
    return (os.environ.get(name.lower()) or os.environ.get(name.upper()) or "").strip()


def _bypasses_proxy(host: str, port: int) -> bool:
    """Whether `no_proxy` exempts host:port."""
    host = host.strip("[]").rstrip(".").lower()
    for entry in _env("no_proxy").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:  # a CIDR range
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if entry.startswith("["):  # [v6]:port
            name, _, rest = entry[1:].partition("]")
            entry_port = rest[1:] if rest.startswith(":") else ""
        elif entry.count(":") == 1:  # host:port (a bare v6 address has several colons)
            name, _, entry_port = entry.partition(":")
        else:
            name, entry_port = entry, ""
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        name = name.lstrip(".").rstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(scheme: str, host: str, port: int) -> str | None:
    """The proxy URL the environment names for a request to scheme://host:port, if any."""
    proxy = _env(f"{scheme}_proxy") or _env("all_proxy")
    if not proxy or _bypasses_proxy(host, port):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _proxy_origin(proxy: str) -> tuple[str, int, dict[str, str]]:
    parts = urlsplit(proxy)
    if parts.scheme != "http" or not parts.hostname:
        raise ProxyError(
            f"the proxy {parts.scheme}://{parts.hostname or ''} is not supported: mcpkg speaks to http:// proxies only"
        )
    headers: dict[str, str] = {}
    if parts.username is not None:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(user_pass.encode()).decode()
    return parts.hostname, parts.port or 80, headers


# -- connections -----------------------------------------------------------------------


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """Certificates verified against `verify` (a CA file), else the system's store; on a
    system that has none (OpenSSL's default file and directory both missing, as on a
    python.org build on macOS before "Install Certificates"), certifi's bundle."""
    import ssl

    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    paths = ssl.get_default_verify_paths()
    if not any(p and os.path.exists(p) for p in (paths.cafile, paths.capath)):
        try:
            import certifi
        except ImportError:
            pass
        else:
            return ssl.create_default_context(cafile=certifi.where())
    return ssl.create_default_context()


def _connect(conn: http.client.HTTPConnection, target: str, timeout: Timeout) -> None:
    """Open `conn` within the connect timeout, then give its socket the read timeout;
    failures become the `TransportError` that says what failed (`target` is the
    host:port asked for; `conn.host` differs when a proxy is in between)."""
    try:
        conn.connect()
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, exc) from exc
    except TimeoutError as exc:
        raise ConnectTimeout(f"connecting to {conn.host} timed out") from exc
    except OSError as exc:
        if str(exc).startswith("Tunnel connection failed"):  # http.client: the proxy refused CONNECT
            status = str(exc).partition(":")[2].strip()
            raise ProxyError(f"the proxy {conn.host}:{conn.port} refused the tunnel to {target} ({status})") from exc
        if type(exc).__module__ == "ssl":
            raise TlsError(f"TLS with {target} failed: {exc}") from exc
        raise ConnectError(f"cannot connect to {conn.host}: {exc}") from exc
    if conn.sock is not None:
        conn.sock.settimeout(timeout[1])


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection was closed by the server (it is readable: EOF, or
    bytes nobody asked for)."""
    if conn.sock is None:
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Response:
    """One answer. Read its body with `read`/`readinto`, then `close` it (or use it as a
    context manager): a body read to its end gives the connection back for reuse."""

    def __init__(
        self, session: Session, key: str, conn: http.client.HTTPConnection, raw: http.client.HTTPResponse, url: str
    ) -> None:
        self._session = session
        self._key = key
        self._conn = conn
        self._raw = raw
        self.url = url
        self.status: int = raw.status
        self.headers: Message = raw.msg
        self._closed = False

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Fill `buffer` as far as the body goes; 0 at its end. A body that ends before
        its announced length raises `ProtocolError`."""
        if self._closed:
            return 0
        try:
            n = self._raw.readinto(buffer)
        except TimeoutError as exc:
            raise ReadTimeout("the server sent nothing within the read timeout") from exc
        except http.client.IncompleteRead as exc:
            raise ProtocolError("the body ended before its announced length") from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise ProtocolError(f"malformed body ({type(exc).__name__})") from exc
        except OSError as exc:
            raise ProtocolError(f"the connection broke off ({type(exc).__name__})") from exc
        if n == 0 and len(buffer) and self._raw.length:
            raise ProtocolError(f"the body ended {self._raw.length} bytes before its announced length")
        return n

    def read(self, limit: int) -> bytes:
        """At most `limit` bytes of the body (all of it when it is shorter)."""
        announced = self._raw.length  # what is left of a Content-Length body, else None
        buffer = bytearray(max(1, min(limit, announced if announced is not None else 1024 * 1024, 1024 * 1024)))
        view = memoryview(buffer)
        chunks: list[bytes] = []
        total = 0
        while total < limit:
            n = self.readinto(view[: min(len(buffer), limit - total)])
            if not n:
                break
            chunks.append(bytes(view[:n]))
            total += n
        return b"".join(chunks)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        raw = self._raw
        finished = raw.isclosed() or raw.length == 0
        reusable = finished and not raw.will_close
        raw.close()
        self._session._release(self._key, self._conn, reusable)


class Session:
    """Keep-alive HTTP/1.1 requests to any number of origins (see the module docstring)."""

    def __init__(self, user_agent: str, timeout: Timeout, verify: bool | str = True) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.verify = verify
        self._idle: dict[str, http.client.HTTPConnection] = {}
        self._tls: ssl.SSLContext | None = None

    def close(self) -> None:
        for conn in self._idle.values():
            conn.close()
        self._idle.clear()

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = _tls_context(self.verify)
        return self._tls

    def _new_connection(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        """A connection for scheme://host:port, through the environment's proxy if it
        names one."""
        proxy = proxy_for(scheme, host, port)
        timeout = self.timeout[0]
        if proxy is None:
            if scheme == "https":
                return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._context())
            return http.client.HTTPConnection(host, port, timeout=timeout)
        proxy_host, proxy_port, proxy_headers = _proxy_origin(proxy)
        if scheme == "https":
            conn = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=timeout, context=self._context())
            conn.set_tunnel(host, port, headers=proxy_headers)
            return conn
        return _ProxiedConnection(proxy_host, proxy_port, proxy_headers, timeout=timeout)

    def _release(self, key: str, conn: http.client.HTTPConnection, reusable: bool) -> None:
        if reusable and key not in self._idle:
            self._idle[key] = conn
        else:
            conn.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
    ) -> Response:
        """Send one request and return its answer, whatever the status (redirects are
        not followed)."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ConnectError(f"not an http(s) URL: {url}")
        host = parts.hostname
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise ConnectError(f"bad port in {url}") from exc
        key = f"{scheme}://{host}:{port}"
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            sent.setdefault("Content-Length", str(len(body or b"")))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

        for fresh in (False, True):
            conn = None if fresh else self._idle.pop(key, None)
            if conn is not None and _dropped(conn):
                conn.close()
                conn = None
            reused = conn is not None
            if conn is None:
                conn = self._new_connection(scheme, host, port)
                _connect(conn, f"{host}:{port}", self.timeout)
            try:
                conn.request(method, url if isinstance(conn, _ProxiedConnection) else path, body=body, headers=sent)
                raw = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                # RemoteDisconnected and BadStatusLine: the server closed the idle connection
                stale = isinstance(exc, (ConnectionError, http.client.BadStatusLine))
                if reused and stale and method in _IDEMPOTENT:
                    continue
                raise _request_failure(exc, host) from exc
            if raw.status == 407 and isinstance(conn, _ProxiedConnection):
                conn.close()
                raise ProxyError(f"the proxy {conn.host}:{conn.port} demands credentials (HTTP 407)")
            return Response(self, key, conn, raw, url)
        raise AssertionError("unreachable")


def _request_failure(exc: BaseException, host: str) -> TransportError:
    """What failed while a request was sent or its answer's head read."""
    if isinstance(exc, TimeoutError):
        return ReadTimeout(f"{host} sent no answer within the read timeout")
    if isinstance(exc, http.client.HTTPException):
        return ProtocolError(f"{host} answered with no valid HTTP response ({type(exc).__name__})")
    return ConnectError(f"the connection to {host} broke off ({type(exc).__name__})")


class _ProxiedConnection(http.client.HTTPConnection):
    """Plain HTTP through a forward proxy: connects to the proxy, sends requests in
    absolute form with the proxy's credentials."""

    def __init__(self, host: str, port: int, proxy_headers: dict[str, str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._proxy_headers = proxy_headers

    def request(  # type: ignore[override]
        self, method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().request(method, url, body=body, headers={**self._proxy_headers, **(headers or {})}, **kwargs)
