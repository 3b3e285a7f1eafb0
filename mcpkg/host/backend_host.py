"""`mcpkg run BACKEND.wasm`: host a wasi:mcp backend under wasmtime and serve MCP over stdio.

The host implements `wasi:mcp/runtime` with wasmtime-py host functions
(`Linker.root().add_instance(...).add_func(...)`); the JSON-RPC side is
`mcp_session.Session` (pure). The entry-point convention (docs/wasi-mcp.md): the host
calls the backend's `wasi:cli/run`; its `run` registers and calls `serve()`, which
returns at once; once `run` has returned, each request is answered by calling
`wasi:mcp/handlers`, one at a time (a component instance is never re-entered).

Bounds (`bounds.py`, docs/wasi-mcp.md): each call into the backend (`run` at start, then
each handler) may run `--timeout` seconds: a watchdog thread then advances the engine's
epoch and the guest traps at its next epoch check (the engine is compiled with epoch
interruption); a guest blocked in a WASI call checks none, so 5 s later mcpkg answers the
request and exits with status 1 rather than hang. Each linear memory may grow to
`--max-memory` (a store limit: `memory.grow` fails beyond, and CPython's MemoryError ends
the call in a trap). A line of input longer than `--max-message` is skipped, never held
whole, and answered with an error; a reply longer than it is replaced by an error. A deep
recursion ends in wasmtime's stack overflow trap. Each of these ends that request with a
JSON-RPC error; a trap is recovered from as below.

A trap: wasmtime marks a component instance that trapped as unusable ("cannot enter
component instance"), so the request that trapped gets an internal error and the host
makes a fresh instance in a fresh store (its `run` registers again; what the backend kept
in memory is lost) and says so in a `warning` log notification. If the fresh instance
cannot start, mcpkg stops with status 1.

The backend's stdin is not attached (stdin carries the client's messages) and its stdout
goes to stderr (stdout carries the host's replies).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from mcpkg.cache import Cache
from mcpkg.errors import IncompatibleError, McpkgError
from mcpkg.host.bounds import Bounds, size_text
from mcpkg.host.grants import Grants
from mcpkg.host.mcp_json import INTERNAL_ERROR, INVALID_REQUEST, Case, RpcError, log_json, wit_error
from mcpkg.host.mcp_session import BackendTrap, Session, error_response
from mcpkg.host.runner import (
    DEFAULT_COMPILER,
    Compiler,
    Prepared,
    exported_func,
    link_wasi,
    load_component,
    refuse_ungranted,
    sandbox_wasi,
    unprovided_imports,
)
from mcpkg.reference import Digest
from mcpkg.wasm.backend import PACKAGE, backend_contract, backend_problems, entry_export
from mcpkg.wasm.model import ComponentModel, Type

_INTEGERS = ("s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64")


# --- wasmtime-py's values <-> the plain values of mcp_json ---------------------------------
# wasmtime-py gives a variant, option or result as a `Variant` only when its cases cannot be
# told apart by Python type ("tagged"); otherwise as the bare payload. These mirror its rule.


def _cases(t: Type) -> list[tuple[str, Type | None]]:
    if t["k"] == "option":
        return [("none", None), ("some", t["of"])]
    if t["k"] == "result":
        return [("ok", t.get("ok")), ("err", t.get("err"))]
    return [(name, case) for name, case in t["cases"]]


def _classes(t: Type | None) -> set[str]:
    if t is None:
        return {"object"}
    k = t["k"]
    if k in _INTEGERS:
        return {"int"}
    simple = {"bool": "bool", "f32": "float", "f64": "float", "char": "str", "string": "str", "enum": "str"}
    if k in simple:
        return {simple[k]}
    if k == "list":
        return {"bytes" if t["of"]["k"] == "u8" else "list"}
    if k in ("record", "tuple", "flags"):
        return {{"record": "Record", "tuple": "tuple", "flags": "set"}[k]}
    if k in ("variant", "option", "result"):
        if _tagged(t):
            return {"Variant"}
        return set().union(*(_classes(case) for _, case in _cases(t)))
    return {k}


def _tagged(t: Type) -> bool:
    seen: set[str] = set()
    for _, case in _cases(t):
        classes = _classes(case)
        if classes & seen:
            return True
        seen |= classes
    return False


def _python_class(value: Any) -> str:
    import wasmtime.component as wc

    if isinstance(value, wc.Record):
        return "Record"
    if isinstance(value, wc.Variant):
        return "Variant"
    return type(value).__name__


def to_plain(value: Any, t: Type | None) -> Any:
    """A value wasmtime-py lifted -> the plain form (dicts, `Case`, None or the value)."""
    if t is None or (value is None and t["k"] != "option" and t["k"] not in ("variant", "result")):
        return value
    k = t["k"]
    if k == "record":
        return {name: to_plain(getattr(value, name, None), field) for name, field in t["fields"]}
    if k == "list":
        return bytes(value) if t["of"]["k"] == "u8" else [to_plain(v, t["of"]) for v in value]
    if k == "tuple":
        return tuple(to_plain(v, e) for v, e in zip(value, t["of"], strict=True))
    if k in ("variant", "option", "result"):
        cases = _cases(t)
        if _tagged(t):
            name, payload = value.tag, value.payload
        else:
            kind = "object" if value is None else _python_class(value)
            name = next(n for n, case in cases if (case is None and value is None) or kind in _classes(case))
            payload = value
        case_type = dict(cases)[name]
        plain = None if case_type is None else to_plain(payload, case_type)
        if k == "option":
            return plain
        return Case(name, plain)
    return value


def to_wasmtime(value: Any, t: Type | None) -> Any:
    """The plain form -> what wasmtime-py lowers for type `t`."""
    import wasmtime.component as wc

    if t is None:
        return None
    k = t["k"]
    if k == "record":
        record = wc.Record()
        for name, field in t["fields"]:
            setattr(record, name, to_wasmtime(value.get(name), field))
        return record
    if k == "list":
        return bytes(value) if t["of"]["k"] == "u8" else [to_wasmtime(v, t["of"]) for v in value]
    if k == "tuple":
        return tuple(to_wasmtime(v, e) for v, e in zip(value, t["of"], strict=True))
    if k in ("variant", "option", "result"):
        case = (Case("none") if value is None else Case("some", value)) if k == "option" else value
        case_type = dict(_cases(t))[case.name]
        payload = None if case_type is None else to_wasmtime(case.value, case_type)
        return wc.Variant(case.name, payload) if _tagged(t) else payload
    return value


# --- the host ------------------------------------------------------------------------------


class WasmBackend:
    """One backend component: its linker (WASI + the runtime host functions), the current
    instance, and `call` for the handlers (the `Backend` protocol of mcp_session)."""

    def __init__(
        self,
        server: Path,
        model: ComponentModel,
        engine: Any,
        component: Any,
        grants: Grants,
        bounds: Bounds,
    ) -> None:
        self.server = server
        self.bounds = bounds
        self.model = model
        self.engine = engine
        self.component = component
        self.grants = grants
        spec = backend_contract()
        self.runtime_name = spec.qualified("runtime")
        self.handlers_name = spec.qualified("handlers")
        self.entry = entry_export(model, spec.entry) or spec.entry
        self.session = Session(self, server.stem)
        self.trapped = False
        self.timed_out = False  # the last trap was the timeout's
        self.watchdog = _Watchdog(engine, bounds.timeout)
        self.http = False  # whether wasi:http is linked (set by _linker)
        self.linker = self._linker()
        self.store: Any = None
        self.instance: Any = None

    def _linker(self) -> Any:
        import wasmtime.component as wc

        linker = wc.Linker(self.engine)
        self.http = link_wasi(linker, self.model)
        with linker.root() as root:
            for name, item in self.model.imports.items():
                if name.split("/", 1)[0] != PACKAGE or item["kind"] != "instance":
                    continue
                with root.add_instance(name) as instance:  # types, content, capabilities: types only
                    if name != self.runtime_name:
                        continue
                    for function, signature in item["functions"].items():  # the types the backend imports
                        instance.add_func(function, self._host_function(function, signature))
        return linker

    def _host_function(self, function: str, signature: dict[str, Any]) -> Callable[..., Any]:
        params = [t for _, t in signature["params"]]
        result = signature.get("result")

        def host(store: Any, *args: Any) -> Any:
            try:
                plain = [to_plain(a, t) for a, t in zip(args, params, strict=True)]
                outcome = self.session.runtime(function, *plain)
            except Exception as exc:  # a host bug answers the backend; it never traps it
                outcome = Case("err", wit_error("internal-error", f"mcpkg could not handle {function}: {exc}"))
            if result is None:
                return None
            return to_wasmtime(Case("ok") if outcome is None else outcome, result)

        return host

    def start(self) -> None:
        """A fresh store and instance; call `run` (which must call `serve()`)."""
        import wasmtime

        self.store = wasmtime.Store(self.engine)
        if self.bounds.max_memory:
            self.store.set_limits(memory_size=self.bounds.max_memory)
        wasi = sandbox_wasi(self.server.name, self.grants)
        wasi.stdout_custom = _to_stderr  # stdout is the MCP protocol's
        self.store.set_wasi(wasi)
        if self.http:
            self.store.set_wasi_http()
        self.session.served = False
        try:
            with self._deadline():
                self.instance = self.linker.instantiate(self.store, self.component)
        except wasmtime.WasmtimeError as exc:
            reason = _first_line(exc)
            hint = "a wasi:mcp backend may import only WASI preview 2, wasi:http and wasi:mcp (docs/wasi-mcp.md)"
            if "exceeds memory limits" in reason:
                hint = f"--max-memory {size_text(self.bounds.max_memory)} is less than the backend needs to start"
            raise McpkgError(f"cannot start {self.server}: {reason}", hint) from exc
        try:
            with self._deadline():
                outcome = self._func(self.entry, "run")(self.store)
        except wasmtime.WasmtimeError as exc:
            raise McpkgError(f"{self.server} trapped in run: {self._trap_text(exc)}") from exc
        if getattr(outcome, "tag", "ok") != "ok":
            raise McpkgError(f"{self.server}: run returned an error", "see what the backend wrote to stderr")
        if not self.session.served:
            raise IncompatibleError(
                f"{self.server}: run returned without calling serve()",
                "mcpkg's entry-point convention: run registers everything, then calls wasi:mcp/runtime.serve "
                "(docs/wasi-mcp.md)",
            )
        self.trapped = False
        self.timed_out = False

    def _deadline(self) -> AbstractContextManager[None]:
        return self.watchdog.armed(self.store)

    def _trap_text(self, exc: BaseException) -> str:
        """wasmtime's reason, or the bound that was hit."""
        text = _first_line(exc)
        self.timed_out = self.bounds.timeout > 0 and "interrupt" in text
        if self.timed_out:
            return f"it ran over the {self.bounds.timeout:g} s timeout (--timeout)"
        return text

    def _func(self, interface: str, name: str) -> Any:
        return exported_func(self.component, self.instance, self.store, interface, name, self.server)

    def call(self, function: str, *args: Any) -> Case:
        import wasmtime

        signature = self.model.exports[self.handlers_name]["functions"].get(function)
        if signature is None:
            raise BackendTrap(f"the backend does not export {function}")
        lowered = [to_wasmtime(a, t) for a, (_, t) in zip(args, signature["params"], strict=True)]
        try:
            with self._deadline():
                value = self._func(self.handlers_name, function)(self.store, *lowered)
        except wasmtime.WasmtimeError as exc:
            self.trapped = True
            raise BackendTrap(self._trap_text(exc)) from exc
        result = to_plain(value, signature.get("result"))
        return result if isinstance(result, Case) else Case("ok", result)

    def recover(self) -> None:
        """After a trap: a fresh instance (the old one cannot be entered again)."""
        why = "ran over the timeout" if self.timed_out else "trapped"
        self.start()
        warning = f"the backend {why}; mcpkg restarted it ({self.server.name}'s in-memory state is lost)"
        self.session.runtime("log", "warning", warning, None)


GRACE = 5.0  # seconds after the timeout's tick for a call blocked in a host call to return


class _Watchdog:
    """One thread ticking the engine's epoch when a call into the guest runs past its
    time: `armed(store)` around the call (the store's deadline is the next tick). A tick
    happens only while armed, so one never reaches a later call. The guest traps at its
    next epoch check; a guest blocked in a host call (a WASI sleep) checks none, so if the
    call has not returned `grace` seconds after the tick, `on_stuck` is called (from this
    thread: the caller's is the blocked one). With a timeout of 0 nothing is armed (the
    engine has no epoch interruption then)."""

    def __init__(self, engine: Any, seconds: float, grace: float = GRACE) -> None:
        self.engine = engine
        self.seconds = seconds
        self.grace = grace
        self.on_stuck: Callable[[], None] | None = None
        self.due: float | None = None  # when the armed call times out
        self.ticked = False  # the armed call's tick happened
        self.condition = threading.Condition()
        self.thread: threading.Thread | None = None

    @contextmanager
    def armed(self, store: Any) -> Iterator[None]:
        if self.seconds <= 0:
            yield
            return
        store.set_epoch_deadline(1)
        with self.condition:
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="mcpkg-timeout", daemon=True)
                self.thread.start()
            self.due, self.ticked = time.monotonic() + self.seconds, False
            self.condition.notify()
        try:
            yield
        finally:
            with self.condition:
                self.due = None

    def _watch(self) -> None:
        with self.condition:
            while True:
                if self.due is None:
                    self.condition.wait()
                    continue
                left = self.due - time.monotonic()
                if left > 0:
                    self.condition.wait(left)
                    continue
                if self.ticked:  # still armed, `grace` after the tick: blocked in a host call
                    self.due, self.thread = None, None  # a later call starts a watcher anew
                    break
                self.engine.increment_epoch()  # the guest traps at its next epoch check
                self.due, self.ticked = time.monotonic() + self.grace, True
        if self.on_stuck is not None:
            self.on_stuck()


def _encoded(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _write(sink: IO[bytes], messages: list[dict[str, Any]], limit: int = 0) -> None:
    """Write messages, one a line; one longer than `limit` bytes (0: none) is not sent: a
    response is replaced by an error, a notification dropped (said on stderr)."""
    for message in messages:
        line = _encoded(message)
        if limit and len(line) > limit:
            over = f"{len(line)} bytes, over the {size_text(limit)} limit (--max-message)"
            if "id" not in message or "method" in message:
                print(f"warning: a notification was dropped: {over}", file=sys.stderr)
                continue
            error = RpcError(INTERNAL_ERROR, f"the reply was not sent: {over}")
            line = _encoded(error_response(message["id"], error))
        sink.write(line)
    sink.flush()


class _TooLong:
    """An input line over the limit, skipped."""

    def __init__(self, size: int) -> None:
        self.size = size


def _lines(source: IO[bytes], limit: int) -> Iterator[bytes | _TooLong]:
    """The input's lines, none held longer than `limit` bytes: the rest of a longer line is
    read in pieces and thrown away."""
    while True:
        line = source.readline(limit + 1)
        if not line:
            return
        if line.endswith(b"\n") or len(line) <= limit:  # at most `limit` bytes and its newline
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = source.readline(1 << 16)
            if not line:
                break
            size += len(line)
        yield _TooLong(size)


def _to_stderr(data: bytes) -> None:
    sys.stderr.buffer.write(data)
    sys.stderr.buffer.flush()


def _first_line(exc: BaseException) -> str:
    """wasmtime's message without its backtrace: the cause (`wasm trap: ...`) when given."""
    text = str(exc).strip()
    if "Caused by:" in text:
        text = text.split("Caused by:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def refuse_unhostable(model: ComponentModel, server: Path, allow_http: bool = False) -> None:
    """Stop before compiling when the backend breaks the contract mcpkg hosts
    (IncompatibleError), imports what mcpkg does not provide, or calls out over HTTP
    without `--allow-http`."""
    problems = backend_problems(model, str(server))
    if problems:
        raise IncompatibleError(
            "mcpkg cannot host this wasi:mcp backend:\n  " + "\n  ".join(problems),
            "see docs/wasi-mcp.md for the contract and the entry-point convention",
            {"problems": problems},
        )
    missing = unprovided_imports(model, hosted=frozenset({PACKAGE}))
    if missing:
        raise IncompatibleError(
            f"mcpkg cannot host {server}: it imports {', '.join(missing)}, which mcpkg's host does not provide",
            "a wasi:mcp backend may import WASI preview 2, wasi:http (with --allow-http) and wasi:mcp "
            "(docs/wasi-mcp.md)",
            {"unprovided": missing},
        )
    refuse_ungranted(model, server, allow_http)


def _stop_stuck(backend: WasmBackend, sink: IO[bytes]) -> None:
    """A call blocked in a host call past its timeout and the grace: the thread serving is
    the blocked one, so no fresh instance can take over. Answer the request, say why, and
    end the process (status 1; an MCP client can start the server again)."""
    seconds = f"{backend.bounds.timeout:g} s"
    why = f"the backend did not return within {seconds} (--timeout) and {GRACE:g} s of grace: blocked in a WASI call"
    messages: list[dict[str, Any]] = []
    if backend.session.request_id is not None:
        messages.append(error_response(backend.session.request_id, RpcError(INTERNAL_ERROR, why)))
    messages.append(log_json("critical", f"mcpkg stops: {why}", None, backend.session.name))
    try:
        _write(sink, messages)
        print(f"error: {why} (a sleep?); mcpkg stops", file=sys.stderr, flush=True)
    finally:
        os._exit(1)


def serve_backend(
    cache: Cache,
    server: Path,
    model: ComponentModel,
    digest: Digest,
    grants: Grants,
    on_compile: Callable[[], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
    bounds: Bounds | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> tuple[int, Prepared]:
    """Serve MCP over stdio until stdin closes; returns (exit code, how it was prepared)."""
    bounds = bounds or Bounds()
    refuse_unhostable(model, server, grants.http)
    source = stdin if stdin is not None else sys.stdin.buffer
    sink = stdout if stdout is not None else sys.stdout.buffer
    engine, component, prepared = load_component(cache, server, str(digest), on_compile, compiler, bounds.epochs)
    backend = WasmBackend(server, model, engine, component, grants, bounds)
    limit = bounds.max_message
    backend.session.emit = lambda message: _write(sink, [message], limit)  # notifications go out as sent
    backend.watchdog.on_stuck = lambda: _stop_stuck(backend, sink)
    backend.start()
    for line in _lines(source, limit):
        if isinstance(line, _TooLong):
            over = f"a message of {line.size} bytes is over the {size_text(limit)} limit (--max-message): not read"
            _write(sink, [error_response(None, RpcError(INVALID_REQUEST, over))])
            continue
        if not line.strip():
            continue
        _write(sink, backend.session.handle_line(line), limit)
        if backend.trapped:
            try:
                backend.recover()
            except McpkgError as exc:
                _write(sink, [log_json("critical", f"mcpkg stops: {exc.message}", None, backend.session.name)])
                print(f"error: {exc.message}", file=sys.stderr)
                return 1, prepared
            _write(sink, backend.session.drain(), limit)
    return 0, prepared
