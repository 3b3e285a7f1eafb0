"""The composer on shapes the fixtures never had, against `wasm-tools compose`
(testing/differential.py): the three defects held-out checks found, each from a minimal
WIT; a bounded differential run over generated servers (testing/witgen.py); and every
shrunk failing case a long run (`scripts/fuzz compose`) ever found, kept in
`compose-cases/`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from testing.differential import CANNOT_EXPRESS, MATCH, REFERENCE_INVALID, check_case, run_cases
from testing.witgen import Case

CASES = Path(__file__).parent / "compose-cases"
SEED = 20261128
EXAMPLES = 40

CHAIN = """
interface chain {
  use content.{%s};
  handle: func(%s) -> u32;
}
"""
PLAIN_WORLDS = """
world transport {
  import chain;
  export run: func() -> u32;
}
world middle {
  import chain;
  export chain;
}
world terminal {
  export chain;
}
"""


def case(content: str, uses: list[str], worlds: str = PLAIN_WORLDS, services: tuple[str, ...] = ()) -> Case:
    params = ", ".join(f"p{i}: {name}" for i, name in enumerate(uses))
    text = (
        "package shapes:demo@0.1.0;\n\ninterface content {\n" + content + "\n}\n"
        + CHAIN % (", ".join(uses), params) + worlds
    )  # fmt: skip
    return Case({"root.wit": text}, "transport", ("middle", "middle"), "terminal", services)


def test_twin_records_keep_both_names() -> None:
    """wasmcp v0.3's `image-content` and `audio-content`: the same fields, two names."""
    twins = case(
        "  record image-content { data: string, mime-type: string }\n"
        "  record audio-content { data: string, mime-type: string }",
        ["image-content", "audio-content"],
    )
    assert check_case(twins).verdict == MATCH


def test_an_alias_of_a_named_type() -> None:
    alias = case("  record pine-rec { a: u32, b: string }\n  type kelp = pine-rec;", ["pine-rec", "kelp"])
    assert check_case(alias).verdict == MATCH


def test_twin_enums_and_flags() -> None:
    twins = case(
        "  enum color { red, green }\n  enum shade { red, green }\n"
        "  flags perms { read, write }\n  flags modes { read, write }",
        ["color", "shade", "perms", "modes"],
    )
    assert check_case(twins).verdict == MATCH


def test_the_transports_function_export_is_kept() -> None:
    """`export run: func() -> u32;` of the transport world is an export of the server
    (the reference's exports are compared with mcpkg's)."""
    plain = case("  record r { a: u32 }", ["r"])
    assert check_case(plain).verdict == MATCH


def test_an_unwired_function_import_passes_through() -> None:
    worlds = PLAIN_WORLDS.replace("world terminal {\n", "world terminal {\n  import log: func(msg: string);\n")
    assert check_case(case("  record r { a: u32 }", ["r"], worlds)).verdict == MATCH


def test_a_function_import_wired_to_a_service() -> None:
    """A service's world-level function export satisfies the import; `wasm-tools
    compose` cannot express it (it panics), so mcpkg's output must validate and
    instantiate on its own."""
    worlds = PLAIN_WORLDS.replace("world terminal {\n", "world terminal {\n  import log: func(msg: string);\n")
    worlds += "world logger {\n  export log: func(msg: string);\n}\n"
    outcome = check_case(case("  record r { a: u32 }", ["r"], worlds, services=("logger",)))
    assert outcome.verdict in (MATCH, CANNOT_EXPRESS), str(outcome)


def test_generated_servers_compose_like_wasm_tools() -> None:
    outcomes: Counter[str] = Counter()
    failure = run_cases(SEED, EXAMPLES, lambda outcome: outcomes.update([outcome.verdict]))
    assert failure is None, f"{failure.error}\nshrunk case:\n{failure.case}" if failure else ""
    assert sum(outcomes.values()) == EXAMPLES
    assert set(outcomes) <= {MATCH, CANNOT_EXPRESS, REFERENCE_INVALID}, outcomes
    assert outcomes[MATCH] > EXAMPLES // 2, outcomes  # most shapes are checked against the reference


def test_kept_cases() -> None:
    """Replays every shrunk case a long run found (none is kept until one fails)."""
    assert CASES.is_dir()
    for path in sorted(CASES.glob("*.json")):
        outcome = check_case(Case.from_json(json.loads(path.read_text())))
        assert outcome.verdict in (MATCH, CANNOT_EXPRESS, REFERENCE_INVALID), f"{path.name}: {outcome}"
