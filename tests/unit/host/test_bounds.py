"""The bounds of a hosted wasi:mcp backend: parsing `--timeout`, `--max-memory` and
`--max-message`, the compiled-artifact key (epoch interruption or not), epoch interruption
under both compilers, and the stdio side's bounded lines and replies."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from mcpkg.cache import Cache
from mcpkg.errors import UsageError
from mcpkg.host.backend_host import _lines, _TooLong, _Watchdog, _write
from mcpkg.host.bounds import (
    DEFAULT_MAX_MEMORY,
    DEFAULT_MAX_MESSAGE,
    DEFAULT_TIMEOUT,
    Bounds,
    parse_bounds,
    parse_size,
    parse_timeout,
    size_text,
)
from mcpkg.host.runner import COMPILERS, Compiler, _key, _paths, compile_and_store, has_artifact, new_engine

MIB = 1 << 20


@pytest.mark.parametrize(
    ("text", "size"),
    [("256M", 256 * MIB), ("1G", 1 << 30), ("1GiB", 1 << 30), ("64mb", 64 * MIB), ("512k", 512 << 10), ("4096", 4096)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text, "--max-memory") == size


@pytest.mark.parametrize("text", ["", "1.5G", "-1", "5T", "G", "64 megabytes", "0x10"])
def test_bad_sizes_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as bad:
        parse_size(text, "--max-memory")
    assert "--max-memory" in bad.value.message and bad.value.hint is not None and "256M" in bad.value.hint


def test_size_bounds() -> None:
    assert parse_size("0", "--max-memory") == 0  # no limit
    assert parse_size("4G", "--max-memory") == 4 << 30
    with pytest.raises(UsageError, match="over 4G"):
        parse_size("5G", "--max-memory")
    with pytest.raises(UsageError, match="cannot be 0"):
        parse_size("0", "--max-message", zero=False)


def test_timeouts() -> None:
    assert parse_timeout("2.5") == 2.5 and parse_timeout("0") == 0 and parse_timeout("30") == 30
    for text in ("-1", "soon", "inf", "nan", ""):
        with pytest.raises(UsageError, match="--timeout"):
            parse_timeout(text)


def test_defaults_and_epochs() -> None:
    assert parse_bounds(None, None, None) == Bounds()
    assert Bounds() == Bounds(DEFAULT_TIMEOUT, DEFAULT_MAX_MEMORY, DEFAULT_MAX_MESSAGE)
    assert (DEFAULT_TIMEOUT, DEFAULT_MAX_MEMORY, DEFAULT_MAX_MESSAGE) == (30, 1 << 30, 8 * MIB)
    assert parse_bounds("2", "64M", "1M") == Bounds(2, 64 * MIB, MIB)
    assert Bounds().epochs and not parse_bounds("0", None, None).epochs
    assert size_text(8 * MIB) == "8 MiB" and size_text(1 << 30) == "1 GiB" and size_text(1000) == "1000 bytes"


def test_cache_key_tells_epoch_interruption_apart(tmp_path: Path) -> None:
    """`compose --precompile` of a composed server (no epochs) and `run` of a backend (epochs)
    never share an artifact; the key without epochs is the one it always was."""
    digest = "sha256:" + "ab" * 32
    compilers: tuple[Compiler, ...] = ("cranelift", "winch")
    keys = {_key(digest, c, e) for c in compilers for e in (False, True)}
    assert len(keys) == 4
    assert _key(digest, "winch") == _key(digest, "winch", False)
    cache = Cache(tmp_path / "cache")
    assert _paths(cache, digest, "winch", True)[0] != _paths(cache, digest, "winch")[0]


def test_an_epoch_engine_keeps_its_own_artifact(tmp_path: Path) -> None:
    """A real compile with and without epoch interruption: each is stored under its own key,
    and an engine of one kind refuses the other's artifact (so sharing a key would mean
    compiling over each other's artifact on every switch)."""
    import wasmtime
    import wasmtime.component as wc

    component = b'(component (core module (func (export "f"))))'
    data = wasmtime.wat2wasm(component)
    cache, digest = Cache(tmp_path / "cache"), "sha256:" + "cd" * 32
    plain, epochs = new_engine("winch"), new_engine("winch", epochs=True)
    _, plain_artifact = compile_and_store(cache, plain, bytes(data), digest, "test", "winch")
    assert has_artifact(cache, digest, "winch") and not has_artifact(cache, digest, "winch", epochs=True)
    _, epoch_artifact = compile_and_store(cache, epochs, bytes(data), digest, "test", "winch", epochs=True)
    assert epoch_artifact != plain_artifact and plain_artifact.is_file() and epoch_artifact.is_file()
    wc.Component.deserialize_file(epochs, str(epoch_artifact))
    with pytest.raises(wasmtime.WasmtimeError):
        wc.Component.deserialize_file(epochs, str(plain_artifact))


SPIN = '(module (func (export "spin") (loop $again (br $again))) (func (export "nop")))'


@pytest.mark.parametrize("compiler", COMPILERS)
def test_both_compilers_honour_epoch_interruption(compiler: Compiler) -> None:
    """An endless loop traps at the timeout under Cranelift and Winch alike; the next call
    in the same store runs (its deadline is set again) and no tick reaches it."""
    import wasmtime

    engine = new_engine(compiler, epochs=True)
    store = wasmtime.Store(engine)
    exports = wasmtime.Instance(store, wasmtime.Module(engine, SPIN), []).exports(store)
    spin, nop = exports["spin"], exports["nop"]
    assert isinstance(spin, wasmtime.Func) and isinstance(nop, wasmtime.Func)
    watchdog = _Watchdog(engine, 0.2)
    start = time.monotonic()
    with pytest.raises(wasmtime.Trap, match="interrupt"), watchdog.armed(store):
        spin(store)
    assert 0.15 < time.monotonic() - start < 5
    with watchdog.armed(store):
        nop(store)
    time.sleep(0.3)  # past the timeout, disarmed: no tick
    with watchdog.armed(store):
        nop(store)


NAP_THEN_SPIN = '(module (import "host" "nap" (func $nap)) (func (export "f") (call $nap) (loop $l (br $l))))'


def test_a_call_blocked_in_the_host_is_reported_stuck() -> None:
    """The epoch cannot stop a guest blocked in a host call (a WASI sleep): `grace` after
    the tick, the watchdog calls `on_stuck` (mcpkg then answers and exits; here it is
    recorded), while the blocked call goes on."""
    import wasmtime

    engine = new_engine("winch", epochs=True)
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, NAP_THEN_SPIN)
    nap = wasmtime.Func(store, wasmtime.FuncType([], []), lambda: time.sleep(1.0))
    f = wasmtime.Instance(store, module, [nap]).exports(store)["f"]
    assert isinstance(f, wasmtime.Func)
    watchdog = _Watchdog(engine, 0.1, grace=0.2)
    stuck: list[float] = []
    watchdog.on_stuck = lambda: stuck.append(time.monotonic())
    start = time.monotonic()
    with pytest.raises(wasmtime.Trap, match="interrupt"), watchdog.armed(store):
        f(store)  # the host call returns after 1 s, then the guest meets its epoch check in the loop
    assert len(stuck) == 1 and 0.25 < stuck[0] - start < 0.9
    with watchdog.armed(store):  # a fresh watcher for the next call
        pass


def test_lines_over_the_limit_are_skipped_not_held() -> None:
    source = io.BytesIO(b"a" * 10 + b"\n" + b"b" * 11 + b"\n" + b"c" * 100_000 + b"\n" + b"ok\n" + b"d" * 12)
    got = list(_lines(source, 10))
    assert got[0] == b"a" * 10 + b"\n"  # exactly the limit, and its newline
    assert isinstance(got[1], _TooLong) and got[1].size == 12
    assert isinstance(got[2], _TooLong) and got[2].size == 100_001
    assert got[3] == b"ok\n"
    assert isinstance(got[4], _TooLong) and got[4].size == 12  # the last line, no newline
    assert len(got) == 5
    assert list(_lines(io.BytesIO(b"tail"), 10)) == [b"tail"]


def test_replies_over_the_limit_become_errors(capsys: pytest.CaptureFixture[str]) -> None:
    sink = io.BytesIO()
    big = "x" * 2000
    _write(
        sink,
        [
            {"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": big}},
            {"jsonrpc": "2.0", "id": 7, "result": {"text": big}},
            {"jsonrpc": "2.0", "id": 8, "result": {}},
        ],
        1024,
    )
    replies = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [r.get("id") for r in replies] == [7, 8]
    assert replies[0]["error"]["code"] == -32603 and "1 KiB limit (--max-message)" in replies[0]["error"]["message"]
    assert "notification was dropped" in capsys.readouterr().err
