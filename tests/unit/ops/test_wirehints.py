"""The `wire` entries a wiring error suggests (ops/wirehints.py), from the problems of
`check_chain` on small models: an ambiguous import, a provider whose types differ, a
wire to a service that does not export the interface, an import nothing provides. The
chain's own links never get a wire hint (their order is [server]'s)."""

from __future__ import annotations

from mcpkg.ops.wirehints import wire_fixes, wire_hint
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.model import ComponentModel, Item

CHAIN = "t:mcp/handler@1.0.0"
STORE = "t:kv/store@0.1.0"


def instance(**functions: Item) -> Item:
    return {"kind": "instance", "functions": functions, "resources": [], "uses": [], "types": {}}


def func(*params: tuple[str, str], result: str | None = None) -> Item:
    return {"params": [[n, {"k": t}] for n, t in params], "result": {"k": result} if result else None}


HANDLE = instance(handle=func(("request", "string")))
GET = instance(get=func(("key", "string"), result="string"))
GET_BYTES = instance(get=func(("key", "u32"), result="string"))
TRANSPORT = ComponentModel({CHAIN: HANDLE}, {"wasi:cli/run@0.2.3": instance(run=func())})
TERMINAL = ComponentModel({}, {CHAIN: HANDLE})
SESSIONS = ComponentModel({STORE: GET}, {"t:mcp/sessions@0.1.0": instance(open=func())})
STORE_A = ComponentModel({}, {STORE: GET})
STORE_ODD = ComponentModel({}, {STORE: GET_BYTES})


def fixes_of(services: dict[str, ComponentModel], wires: dict[str, dict[str, str]] | None = None) -> list[str]:
    report = check_chain(("transport", TRANSPORT), [], ("terminal", TERMINAL), sorted(services.items()), wires)
    assert report.problems
    fixes = wire_fixes(report.problems, services, report.wiring.chain_interface)
    return (wire_hint(fixes) or "").splitlines()


def test_an_ambiguous_import_gets_one_wire_line_per_provider() -> None:
    lines = fixes_of({"sessions": SESSIONS, "kv-a": STORE_A, "kv-b": STORE_A})
    assert lines == [
        "wire sessions's import to the provider you mean, in mcpkg.toml:",
        '  [components.sessions.wire] "t:kv/store" = "kv-a"',
        '  [components.sessions.wire] "t:kv/store" = "kv-b"',
    ]


def test_a_provider_whose_types_differ_suggests_the_others_and_never_itself() -> None:
    services = {"sessions": SESSIONS, "kv-odd": STORE_ODD, "kv-a": STORE_A}
    lines = fixes_of(services, {"sessions": {"t:kv/store": "kv-odd"}})
    assert '  [components.sessions.wire] "t:kv/store" = "kv-a"' in lines
    assert not [line for line in lines if '"kv-odd"' in line]


def test_a_wire_to_a_service_without_the_interface_suggests_those_with_it() -> None:
    sessions_only = ComponentModel({}, {"t:other/x@1.0.0": GET})
    services = {"sessions": SESSIONS, "other": sessions_only, "kv-a": STORE_A}
    lines = fixes_of(services, {"sessions": {"t:kv/store": "other"}})
    assert lines[1:] == ['  [components.sessions.wire] "t:kv/store" = "kv-a"']


def test_an_import_nothing_provides_says_to_add_a_service() -> None:
    lines = fixes_of({"sessions": SESSIONS})
    assert len(lines) == 1 and "no other service exports t:kv/store@0.1.0 for sessions" in lines[0]
    assert "mcpkg add NAME REF --service" in lines[0]


def test_chain_link_problems_get_no_wire_hint() -> None:
    odd_terminal = ComponentModel({}, {CHAIN: instance(handle=func(("request", "u32")))})
    report = check_chain(("transport", TRANSPORT), [], ("terminal", odd_terminal), [], None)
    assert report.problems
    assert wire_fixes(report.problems, {}, report.wiring.chain_interface) == []
