"""The first compile's estimate (host/compiletime.py): code is counted from the core
modules' code sections only, nested components included, each definition once; a file
that is not Wasm counts nothing; the estimate grows with the code and winch is quicker."""

from __future__ import annotations

import os
from pathlib import Path

from mcpkg.host.compiletime import code_size, estimate_seconds, rounded


def leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + leb(len(payload)) + payload


CORE = b"\x00asm\x01\x00\x00\x00"
COMPONENT = b"\x00asm\x0d\x00\x01\x00"


def module(code: int) -> bytes:
    # a custom section (not code) and a code section of `code` bytes
    return CORE + section(0, b"\x04name" + b"x" * 50) + section(10, b"\x00" * code)


def test_code_is_counted_in_modules_and_nested_components(tmp_path: Path) -> None:
    inner = COMPONENT + section(1, module(300))
    outer = COMPONENT + section(1, module(1000)) + section(4, inner) + section(0, b"\x04data" + b"y" * 5000)
    path = tmp_path / "c.wasm"
    path.write_bytes(outer)
    assert code_size(path) == 1300
    core = tmp_path / "m.wasm"
    core.write_bytes(module(777))
    assert code_size(core) == 777


def test_what_is_not_wasm_counts_nothing(tmp_path: Path) -> None:
    for data in (b"", b"not wasm at all", COMPONENT + b"\x01\xff\xff\xff\xff\x0f"):
        path = tmp_path / "bad.wasm"
        path.write_bytes(data)
        assert code_size(path) == 0
    assert code_size(tmp_path / "missing.wasm") == 0
    fifo = tmp_path / "pipe.wasm"
    os.mkfifo(fifo)
    assert code_size(fifo) == 0  # returns at once: never opened (a reader would wait for a writer)


def test_estimates_grow_with_code_and_winch_is_quicker() -> None:
    small, large = 1024 * 1024, 40 * 1024 * 1024
    assert estimate_seconds(large, "cranelift") > estimate_seconds(small, "cranelift")
    assert estimate_seconds(large, "winch") < estimate_seconds(large, "cranelift")
    assert rounded(4.2) == "about 4 s" and rounded(26) == "about 25 s" and rounded(200) == "about 3 min"
