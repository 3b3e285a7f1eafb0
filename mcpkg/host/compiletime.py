"""About how long wasmtime takes to compile a component, said before it does.

A server's first `mcpkg run` compiles it (unless `compose --precompile` did), and an MCP
client that starts the server waits for that compile before its `initialize` is
answered; clients commonly give up after 60 s. So `compose` and `run` say beforehand
about how long it will take and how to make it shorter.

What is compiled is the code of the core modules: the size of their code sections, every
module definition counted once (the composer defines a module shared by several
components once, `compose/sharing.py`), read from the section headers alone through a
memory map. Data segments, custom sections and the component level cost next to nothing.

The times are measured on two cores (docs/compose.md): wasmtime compiles functions in
parallel, so more cores take less and a loaded machine more. The estimate is rounded and
labelled "about"; it is a hint, never a promise.
"""

from __future__ import annotations

import itertools
import mmap
import stat
from pathlib import Path

from mcpkg.wasm.binary.sections import COMPONENT_SECTION, CORE_MODULE_SECTION, section_spans

CODE_SECTION = 10  # a core module's code section id
MAX_NESTING = 64

# (MiB of core-module code, seconds) measured on two cores: the current wasmcp generation's
# two-capability server with its CPython module shared (7.0 MiB of code), and the 106 MiB
# fixture server of five CPython copies (37.7 MiB; docs/compose.md). The time is read off
# the line through these points, extended past the last one by its slope: the first MiBs
# cost most (one large interpreter module compiles on one core), the rest in parallel.
MEASURED = {
    "cranelift": ((0.0, 0.0), (7.0, 12.6), (37.7, 25.4)),
    "winch": ((0.0, 0.0), (7.0, 3.8), (37.7, 10.4)),
}
SLOW_START = 30.0  # a first answer later than this risks an MCP client's timeout


def code_size(path: Path) -> int:
    """Bytes of core-module code in the component (or core module) at `path`; 0 when it
    is not a regular file (a compose written into a FIFO or a device: opening it to read
    would wait for a writer) or cannot be read as one (the compile then says what is wrong)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO, a device, a socket: never opened to read
            return 0
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _code_in(data, 0, len(data), 0, data[4:8] == b"\x01\x00\x00\x00")  # type: ignore[arg-type]
    except (OSError, ValueError, Exception):
        return 0


def _code_in(data: bytes, start: int, end: int, depth: int, core: bool) -> int:
    total = 0
    for sid, _, payload, stop in section_spans(data, start, end, "the component"):
        if core and sid == CODE_SECTION:
            total += stop - payload
        elif not core and sid == CORE_MODULE_SECTION:
            total += _code_in(data, payload, stop, depth, True)
        elif not core and sid == COMPONENT_SECTION and depth < MAX_NESTING:
            total += _code_in(data, payload, stop, depth + 1, False)
    return total


def estimate_seconds(code_bytes: int, compiler: str) -> float:
    """About how many seconds `compiler` takes for `code_bytes` of code on two cores."""
    points = MEASURED.get(compiler, MEASURED["cranelift"])
    mib = code_bytes / (1024 * 1024)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if mib <= x1 or (x1, y1) == points[-1]:
            return y0 + (y1 - y0) * (mib - x0) / (x1 - x0)
    raise AssertionError("unreachable")


def rounded(seconds: float) -> str:
    """ "about 25 s", "about 2 min"."""
    if seconds < 90:
        return f"about {max(1, round(seconds / 5) * 5 if seconds >= 10 else round(seconds))} s"
    return f"about {round(seconds / 60)} min"
