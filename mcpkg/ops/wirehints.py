"""What to do about an import that cannot be wired: the `wire` entries that fix it.

`check_chain` names each problem from the importer's side (`calculator`, or
`calculator <- kv-store` when a provider was tried). A wiring problem is fixed in the
importer's entry of `mcpkg.toml`, so this module turns each such problem into the entry
to write: for every other service that exports the interface, the `wire` line that
chooses it, and when no service exports it, what to add instead. Pure: models in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mcpkg.wasm.compat import Problem, find_export
from mcpkg.wasm.model import ComponentModel, is_wasi, semver_key


@dataclass(frozen=True)
class WireFix:
    importer: str  # the component whose import it is
    interface: str  # as imported, with its version
    tried: str | None  # the provider that was tried and does not fit (None: none or several)
    candidates: tuple[str, ...]  # the other services exporting it

    @property
    def key(self) -> str:
        """The interface as a `wire` key: without its version."""
        return self.interface.split("@", 1)[0]

    def to_json(self) -> dict[str, object]:
        candidates = list(self.candidates)
        return {"component": self.importer, "interface": self.key, "tried": self.tried, "candidates": candidates}

    def lines(self) -> list[str]:
        if not self.candidates:
            return [
                f"no other service exports {self.interface} for {self.importer}: add one "
                f"(`mcpkg add NAME REF --service`), or replace {self.tried or 'the provider'}"
            ]
        entries = [f'[components.{self.importer}.wire] "{self.key}" = "{c}"' for c in self.candidates]
        return [f"wire {self.importer}'s import to the provider you mean, in mcpkg.toml:", *(f"  {e}" for e in entries)]


WIRING_MESSAGES = ("ambiguous", "not satisfied", "wired to")


def wire_fixes(
    problems: list[Problem], services: Mapping[str, ComponentModel], chain_interface: str | None
) -> list[WireFix]:
    """One fix per (importer, interface) among `problems` about a service import (not the
    chain's links: their order is [server]'s)."""
    chain_key = semver_key(chain_interface) if chain_interface else None
    fixes: dict[tuple[str, str], WireFix] = {}
    for problem in problems:
        interface = problem.interface
        if interface is None or is_wasi(interface) or semver_key(interface) == chain_key:
            continue
        importer, _, tried = problem.component.partition(" <- ")
        if not tried and not any(m in problem.message for m in WIRING_MESSAGES):
            continue
        candidates = tuple(
            name
            for name, model in sorted(services.items())
            if name not in (importer, tried) and find_export(model, interface) is not None
        )
        fixes.setdefault((importer, interface), WireFix(importer, interface, tried or None, candidates))
    return list(fixes.values())


def wire_hint(fixes: list[WireFix]) -> str | None:
    if not fixes:
        return None
    return "\n".join(line for fix in fixes for line in fix.lines())
