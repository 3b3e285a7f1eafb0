"""Terminal output: results on stdout, progress and diagnostics on stderr.

`-q` silences progress and notes, `-v` adds detail (and tracebacks on errors),
`NO_COLOR` turns colour off, `--json` turns results into one JSON document.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
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
        STATUS.clear()  # the status line comes back on its next tick, below the note
        print(message, file=sys.stderr, flush=True)


def compiling_note(name: str, compiler: str, when: str, after: str, estimate: dict[str, str] | None = None) -> None:
    """What a full compile says, the same way wherever it happens (`run`, `compose
    --precompile`): what is compiled, when (once), with which compiler, about how long
    (`estimate`: compiler -> "about N s", `ops.run.compile_estimate`), and what then; on
    a first `run` with cranelift, how to make the wait shorter."""
    took = f", {estimate[compiler]}" if estimate and compiler in estimate else ""
    note(f"compiling {name} ({when}) with {compiler}{took}: {after}")
    if estimate and when == "first run only" and compiler == "cranelift":
        note(
            f"  sooner: --compiler winch ({estimate['winch']}, slower code), "
            "or compile ahead: mcpkg compose --precompile"
        )
    elif estimate and when == "first run only":
        note(f"  ahead of time, so a client does not wait: mcpkg compose --precompile --compiler {compiler}")


def first_run_note(estimate: dict[str, str], compiler: str = "cranelift") -> None:
    """Said by `compose` when it did not compile: the first `mcpkg run` will, about how
    long that takes, and the two ways to make a client's first start quick."""
    if not estimate:
        return
    note(
        f"the first `mcpkg run` compiles it: {estimate[compiler]} with {compiler} ({estimate['winch']} with "
        "--compiler winch); --precompile compiles it now, so an MCP client's first start does not wait"
    )


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


def progress_delay() -> float:
    """Seconds a step or transfer runs before the status line shows it: 1, or
    `MCPKG_PROGRESS_DELAY` (0 shows every step at once; docs/config.md)."""
    try:
        return max(float(os.environ.get("MCPKG_PROGRESS_DELAY", "1")), 0.0)
    except ValueError:
        return 1.0


class _Item:
    """One running step or transfer on the status line."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total  # bytes, for a transfer
        self.done = 0
        self.started = time.monotonic()

    def text(self, now: float, frame: int) -> str:
        elapsed = now - self.started
        if self.total is None:
            return f"{SPINNER[frame % len(SPINNER)]} {elapsed:3.0f} s  {self.label}"
        fraction = min(self.done / max(self.total, 1), 1.0)
        width = 30
        bar = "#" * int(fraction * width)
        return f"{self.label} [{bar:<{width}}] {fraction * 100:5.1f}% {human_size(self.done)}/{human_size(self.total)}"


SPINNER = "|/-\\"


class StatusLine:
    """The one line on stderr that shows what is running: a spinner for a step, a bar
    for a transfer (the newest of them, with how many more run beside it). Only on a
    terminal, never with -q or --json, and only once the item has run for
    `progress_delay()` seconds; a note or the end of the last item clears it."""

    def __init__(self) -> None:
        self.items: list[_Item] = []
        self.lock = threading.RLock()
        self.thread: threading.Thread | None = None
        self.drawn = False
        self.frame = 0
        self.delay = 1.0

    @staticmethod
    def enabled() -> bool:
        return not OUT.quiet and not OUT.json and sys.stderr.isatty()

    def add(self, item: _Item) -> bool:
        if not self.enabled():
            return False
        with self.lock:
            self.delay = progress_delay()
            self.items.append(item)
            if self.delay == 0:
                self._draw()
            if self.thread is None:
                self.thread = threading.Thread(target=self._tick, name="mcpkg-status", daemon=True)
                self.thread.start()
        return True

    def remove(self, item: _Item) -> None:
        with self.lock:
            if item in self.items:
                self.items.remove(item)
            if not self.items:
                self.clear()

    def update(self) -> None:
        """A transfer moved: redraw now if the line is showing (at most 10 times a second)."""
        with self.lock:
            if self.drawn:
                self._draw()

    def clear(self) -> None:
        with self.lock:
            if self.drawn:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
                self.drawn = False

    def _tick(self) -> None:
        while True:
            time.sleep(0.1)
            with self.lock:
                if not self.items:
                    self.thread = None
                    return
                self.frame += 1
                self._draw()

    def _draw(self) -> None:
        now = time.monotonic()
        item = self.items[-1]
        if now - item.started < self.delay:
            return
        text = item.text(now, self.frame)
        if len(self.items) > 1:
            text += f" (+{len(self.items) - 1} more)"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        sys.stderr.write("\r\x1b[K" + text[:width])
        sys.stderr.flush()
        self.drawn = True

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        """`mcpkg.progress.step`'s reporter: a spinner while the body runs."""
        item = _Item(label)
        shown = self.add(item)
        try:
            yield
        finally:
            if shown:
                self.remove(item)


STATUS = StatusLine()


class Progress:
    """A transfer's progress bar on the status line (`ProgressFactory` of the CLI)."""

    def __init__(self, label: str, total: int) -> None:
        self.item = _Item(label, total)
        self.shown = STATUS.add(self.item)
        self.last_draw = 0.0

    def __call__(self, amount: int) -> None:
        self.item.done += amount
        if not self.shown:
            return
        now = time.monotonic()
        if now - self.last_draw >= 0.1:
            self.last_draw = now
            STATUS.update()

    def finish(self) -> None:
        if self.shown:
            STATUS.remove(self.item)
            self.shown = False
