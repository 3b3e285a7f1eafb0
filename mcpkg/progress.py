"""How an operation reports the progress of a long transfer without knowing who
listens: it is given a factory (label, total bytes) -> reporter. The CLI passes a
terminal progress bar; everyone else gets `silent`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class ProgressReporter(Protocol):
    def __call__(self, amount: int) -> None: ...

    def finish(self) -> None: ...


ProgressFactory = Callable[[str, int], ProgressReporter]


class _Silent:
    def __call__(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


def silent(label: str, total: int) -> ProgressReporter:
    return _Silent()
