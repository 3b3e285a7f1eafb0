"""How an operation reports progress without knowing who listens.

- A long transfer is given a factory (label, total bytes) -> reporter: the CLI passes a
  terminal progress bar, everyone else gets `silent`.
- Any step that may take a while (reading a component's types with wasmtime, waiting for
  a registry, validating or compiling a server) runs inside `step(label)`. The CLI
  installs a reporter that shows a spinner on a terminal once the step has lasted about a
  second (`use_steps`); without one, a step costs nothing and shows nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol


class ProgressReporter(Protocol):
    def __call__(self, amount: int) -> None: ...

    def finish(self) -> None: ...


ProgressFactory = Callable[[str, int], ProgressReporter]
StepReporter = Callable[[str], contextlib.AbstractContextManager[None]]


class _Silent:
    def __call__(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


def silent(label: str, total: int) -> ProgressReporter:
    return _Silent()


_reporter: StepReporter | None = None


def use_steps(reporter: StepReporter | None) -> None:
    """Install (or, with None, remove) the process's step reporter."""
    global _reporter
    _reporter = reporter


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """Run the body as a step named `label` ("reading the types of x.wasm")."""
    if _reporter is None:
        yield
        return
    with _reporter(label):
        yield
