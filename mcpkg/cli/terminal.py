"""Terminal output: results on stdout, progress and diagnostics on stderr.

`-q` silences progress and notes, `-v` adds detail (and tracebacks on errors),
`NO_COLOR` turns colour off, `--json` turns results into one JSON document.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Output:
    quiet: bool = False
    verbose: bool = False
    json: bool = False

    @property
    def color(self) -> bool:
        return "NO_COLOR" not in os.environ and sys.stderr.isatty()


OUT = Output()


def note(message: str) -> None:
    """Progress or diagnostics for humans (stderr); silent with -q or --json."""
    if not OUT.quiet:
        print(message, file=sys.stderr, flush=True)


def compiling_note(name: str, compiler: str, when: str) -> None:
    """What a full compile says, the same way wherever it happens (`run`, `compose
    --precompile`): what is compiled, with which compiler, and that it happens once."""
    note(f"compiling {name} with {compiler} ({when})")


def detail(message: str) -> None:
    if OUT.verbose and not OUT.quiet:
        print(message, file=sys.stderr, flush=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class Progress:
    """A transfer progress bar on stderr, shown only on a terminal and only once a
    transfer has taken longer than about a second."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.enabled = sys.stderr.isatty() and not OUT.quiet and not OUT.json
        self.drawn = False

    def __call__(self, amount: int) -> None:
        self.done += amount
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < 1.0 or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        fraction = min(self.done / self.total, 1.0)
        width = 30
        bar = "#" * int(fraction * width)
        sys.stderr.write(
            f"\r{self.label} [{bar:<{width}}] {fraction * 100:5.1f}% {human_size(self.done)}/{human_size(self.total)}"
        )
        sys.stderr.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
