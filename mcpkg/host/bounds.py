"""The bounds mcpkg keeps a hosted wasi:mcp backend in (`mcpkg run BACKEND --timeout
--max-memory --max-message`, docs/wasi-mcp.md), and the parsing of their values. Pure: the
wasmtime side (epoch interruption, store limits) is `backend_host.py`.

- `timeout`: seconds one call into the backend may run (a handler, or its `run` at start);
  past it, wasmtime's epoch interruption traps the guest. 0: no limit (and no epoch checks
  compiled in).
- `max_memory`: bytes each linear memory of the backend may grow to (`memory.grow` fails
  beyond). 0: wasmtime's own limit (4 GiB for a 32-bit memory).
- `max_message`: bytes of one JSON-RPC message, both ways: a longer input line is skipped
  unread and answered with an error; a longer reply is replaced by an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mcpkg.errors import UsageError

DEFAULT_TIMEOUT = 30.0  # seconds
DEFAULT_MAX_MEMORY = 1 << 30  # 1 GiB
DEFAULT_MAX_MESSAGE = 8 << 20  # 8 MiB
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_SIZE = re.compile(r"(\d+)\s*([KMG]?)(?:I?B)?", re.IGNORECASE)
_MAX_WASM32 = 4 << 30


@dataclass(frozen=True)
class Bounds:
    timeout: float = DEFAULT_TIMEOUT  # 0: none
    max_memory: int = DEFAULT_MAX_MEMORY  # 0: none
    max_message: int = DEFAULT_MAX_MESSAGE

    @property
    def epochs(self) -> bool:
        """Whether the backend is compiled with epoch interruption (a timeout is kept)."""
        return self.timeout > 0


UNBOUNDED = Bounds(0, 0, DEFAULT_MAX_MESSAGE)


def parse_size(text: str, option: str, *, zero: bool = True) -> int:
    """`256M`, `1G`, `1GiB`, `65536` (bytes) -> bytes; K, M and G are powers of 1024."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        raise UsageError(f"{option} {text!r} is not a size", f"e.g. {option} 256M (K, M, G: KiB, MiB, GiB)")
    size = int(found.group(1)) * _UNITS[found.group(2).upper()]
    if size == 0 and not zero:
        raise UsageError(f"{option} cannot be 0", f"e.g. {option} 8M")
    if size > _MAX_WASM32 and option == "--max-memory":
        raise UsageError(f"{option} {text!r} is over 4G, the most a 32-bit memory can hold", "0 means no limit")
    return size


def parse_timeout(text: str) -> float:
    """`--timeout 30`, `2.5`, `0` (no limit): seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise UsageError(f"--timeout {text!r} is not a number of seconds", "e.g. --timeout 30 (0: no limit)")
    return seconds


def parse_bounds(timeout: str | None, max_memory: str | None, max_message: str | None) -> Bounds:
    """The command line's values (None: the default)."""
    return Bounds(
        DEFAULT_TIMEOUT if timeout is None else parse_timeout(timeout),
        DEFAULT_MAX_MEMORY if max_memory is None else parse_size(max_memory, "--max-memory"),
        DEFAULT_MAX_MESSAGE if max_message is None else parse_size(max_message, "--max-message", zero=False),
    )


def size_text(size: int) -> str:
    """8388608 -> "8 MiB"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"
