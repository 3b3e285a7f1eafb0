"""mcpkg's composer against `wasm-tools compose` (see `testing/differential.py`):

- the three defects held-out checks found (issue 16), each from a minimal WIT;
- every case kept in `compose-cases/` (shrunk failures `scripts/fuzz compose` found, and
  cases the reference cannot express), replayed;
- a bounded differential run of generated servers (a fixed seed, so CI sees the same
  servers every time; `scripts/fuzz compose --minutes N` runs the long version).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from testing.differential import (
    CANNOT_EXPRESS,
    MATCH,
    REFERENCE_INVALID,
    Outcome,
    check_case,
    run_cases,
    world_of,
)
from testing.witgen import Case

CASES = Path(__file__).parent / "compose-cases"
BOUNDED_SEED = 16
BOUNDED_EXAMPLES = 40


def chain_case(root: str, *, services: tuple[str, ...] = (), deps: dict[str, str] | None = None) -> Case:
    """A case whose root package (`root.wit`) has worlds `transport`, `terminal` and the
    `services`, and no middle."""
    files = {"root.wit": root, **{f"deps/{name}": text for name, text in (deps or {}).items()}}
    return Case(files, "transport", (), "terminal", services)


def composed(case: Case, tmp_path: Path) -> tuple[Outcome, dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    """The outcome of the differential check, and mcpkg's output's imports and exports."""
    outcome = check_case(case, tmp_path)
    imports, exports = world_of(tmp_path / "mcpkg.wasm")
    return outcome, imports, exports


TWINS = """package test:twins@0.3.0;

interface content {
  record image-content { data: list<u8>, mime-type: string }
  record audio-content { data: list<u8>, mime-type: string }
  type kelp = image-content;
  enum tide { low, high }
  enum mood { low, high }
  flags sails { main, jib }
  flags oars { main, jib }
}

interface handler {
  use content.{image-content, audio-content, kelp, tide, mood, sails, oars};
  handle: func(image: image-content, audio: audio-content, k: kelp, t: tide, m: mood, s: sails, o: oars) -> u32;
}

interface entry {
  start: func() -> u32;
}

world transport {
  import handler;
  export entry;
}

world terminal {
  export handler;
}
"""


def test_identical_twins_and_aliases_are_each_declared(tmp_path: Path) -> None:
    """Defect 1: `image-content` and `audio-content` (same fields), the alias `kelp`, and
    twin enums and flags, in an interface that becomes an import of the composed
    component: each name is declared there (wasmtime refused the output: "instance 0 has
    no export named audio-content")."""
    outcome, imports, _ = composed(chain_case(TWINS), tmp_path)
    assert outcome.verdict == MATCH, outcome
    content = imports["test:twins/content@0.3.0"]
    names = {"image-content", "audio-content", "kelp", "tide", "mood", "sails", "oars"}
    assert {member.removeprefix("type ") for member in content} == names
    assert content["type audio-content"] == content["type image-content"] == content["type kelp"]


def test_bare_function_exports_are_re_exported(tmp_path: Path) -> None:
    """Defect 2: a transport world that exports a bare function composed into a
    component with no exports."""
    root = """package test:run;
interface handler { handle: func(x: u32) -> u32; }
world transport { import handler; export run: func() -> u32; export stop: func(code: u8); }
world terminal { export handler; }
"""
    outcome, _, exports = composed(chain_case(root), tmp_path)
    assert outcome.verdict == MATCH, outcome
    assert exports == {
        "run": {"func": ["func", [], "u32"]},
        "stop": {"func": ["func", [["code", "u8"]], None]},
    }


def test_unwired_function_import_stays_an_import(tmp_path: Path) -> None:
    """Defect 3: a world-level function import nobody provides was refused ("wiring a
    bare function import is not supported"); it stays an import, one for both importers."""
    root = """package test:clock@1.0.0;
interface handler { handle: func(x: u32) -> u32; }
world transport { import handler; import now: func() -> u64; export run: func() -> u32; }
world terminal { import now: func() -> u64; export handler; }
"""
    outcome, imports, _ = composed(chain_case(root), tmp_path)
    assert outcome.verdict == MATCH, outcome
    assert imports == {"now": {"func": ["func", [], "u64"]}}


def test_function_import_is_wired_to_the_one_service_exporting_it(tmp_path: Path) -> None:
    """Defect 3, the other half: a service's function export of that name satisfies it.
    `wasm-tools compose` panics on this (exit 101): mcpkg's output must validate and
    instantiate, and import nothing."""
    root = """package test:clock@1.0.0;
interface handler { handle: func(x: u32) -> u32; }
interface ticks { tick: func() -> u64; }
world transport { import handler; import now: func() -> u64; export run: func() -> u32; }
world terminal { import now: func() -> u64; import ticks; export handler; }
world clock { export now: func() -> u64; export ticks; }
"""
    outcome, imports, exports = composed(chain_case(root, services=("clock",)), tmp_path)
    assert outcome.verdict == CANNOT_EXPRESS and "wire a function" in outcome.detail, outcome
    assert imports == {} and list(exports) == ["run"]


def test_world_level_type_imports_pass_through(tmp_path: Path) -> None:
    """A world `use` gives a component type imports (`(import "kelp" (type (eq ...)))`,
    which wasmtime does not list): one outer import of each, as the reference has."""
    root = """package test:uses@0.1.0;
interface types { record pine-rec { a: u32, b: string } type kelp = pine-rec; }
interface handler { use types.{pine-rec}; handle: func(a: pine-rec) -> u32; }
world transport { use types.{kelp}; import handler; import log: func(x: kelp); export run: func(x: kelp) -> kelp; }
world terminal { use types.{kelp}; import log: func(x: kelp); export handler; }
"""
    outcome, imports, _ = composed(chain_case(root), tmp_path)
    assert outcome.verdict == MATCH, outcome
    assert set(imports) == {"test:uses/types@0.1.0", "kelp", "log"}


def test_semver_compatible_resources_unify(tmp_path: Path) -> None:
    """A service built against `wasi:hio@0.2.9` (wit-component folds its `@0.2.8`
    dependency into it) and a transport against `@0.2.8` share the resource `r`: mcpkg
    imports the interface once, at 0.2.9, so `r` is one type. The reference keeps two
    imports and writes a component whose `r` types differ."""
    root = """package gen:chain@0.1.0;
interface svc { use wasi:hio/h@0.2.8.{r}; f: func(x: r); }
interface handler { g: func(); }
world transport { import handler; import svc; export run: func(); }
world terminal { export handler; }
world service { import wasi:hio/h@0.2.9; export svc; }
"""
    deps = {
        "hio-0.2.8.wit": "package wasi:hio@0.2.8;\ninterface h { resource r; }\n",
        "hio-0.2.9.wit": "package wasi:hio@0.2.9;\ninterface h { resource r; }\n",
    }
    outcome, imports, _ = composed(chain_case(root, services=("service",), deps=deps), tmp_path)
    assert outcome.verdict == REFERENCE_INVALID and "resource types are not the same" in outcome.detail, outcome
    assert list(imports) == ["wasi:hio/h@0.2.9"]


KEPT = sorted(CASES.glob("*.json"))


def test_there_are_kept_cases() -> None:
    assert KEPT, f"{CASES} holds no case"


@pytest.mark.parametrize("path", KEPT, ids=lambda p: p.stem)
def test_kept_case(path: Path, tmp_path: Path) -> None:
    """A kept case passes the differential check, with the outcome recorded (if any)."""
    kept = json.loads(path.read_text())
    outcome = check_case(Case.from_json(kept["case"]), tmp_path)
    if kept.get("expect") is not None:
        assert outcome.verdict == kept["expect"], f"{path.name} ({kept['found']}): {outcome}"


def test_bounded_differential_run() -> None:
    """BOUNDED_EXAMPLES generated servers, from a fixed seed: none fails (a failure is
    shrunk and shown as a case to keep in compose-cases/)."""
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    failure = run_cases(BOUNDED_SEED, BOUNDED_EXAMPLES, lambda _, outcome: outcomes.update([outcome.verdict]))
    elapsed = time.monotonic() - started
    assert failure is None, f"{failure.error}\nthe shrunk case:\n{failure.case}"
    print(f"{sum(outcomes.values())} servers in {elapsed:.0f} s: {dict(outcomes)}")
    assert sum(outcomes.values()) == BOUNDED_EXAMPLES
    assert outcomes[MATCH] >= BOUNDED_EXAMPLES // 2
