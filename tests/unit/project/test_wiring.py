"""Explicit wiring: `[components.NAME.wire]` in mcpkg.toml, its record in mcpkg.lock
(format 2, with format 1 still read), and how `check_chain` applies it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.errors import ConfigError
from mcpkg.project.lockfile import LOCK_VERSION, LockEntry, Lockfile, parse, render
from mcpkg.project.manifest import parse_server_manifest
from mcpkg.wasm.compat import check_chain, wire_matches
from mcpkg.wasm.model import ComponentModel, Item

CHAIN = "t:mcp/handler@1.0.0"
TOOLS = "t:mcp/tools@0.1.1"


def instance(**functions: Item) -> Item:
    return {"kind": "instance", "functions": functions, "resources": [], "uses": [], "types": {}}


def func(*params: tuple[str, str], result: str | None = None) -> Item:
    return {"params": [[n, {"k": t}] for n, t in params], "result": {"k": result} if result else None}


HANDLE = instance(handle=func(("request", "string")))
LIST_TOOLS = instance(**{"list-tools": func(result="string")})

TRANSPORT = ComponentModel({CHAIN: HANDLE}, {"wasi:cli/run@0.2.3": instance(run=func())})
TERMINAL = ComponentModel({}, {CHAIN: HANDLE})
MIDDLEWARE = ComponentModel({CHAIN: HANDLE, TOOLS: LIST_TOOLS}, {CHAIN: HANDLE})
CAPABILITY = ComponentModel({}, {TOOLS: LIST_TOOLS})


def server(wires: dict[str, dict[str, str]] | None, services: dict[str, ComponentModel] | None = None):  # type: ignore[no-untyped-def]
    services = services if services is not None else {"strings": CAPABILITY, "mine": CAPABILITY}
    return check_chain(
        ("transport", TRANSPORT),
        [("strings-tools", MIDDLEWARE), ("my-tools", MIDDLEWARE)],
        ("terminal", TERMINAL),
        sorted(services.items()),
        wires,
    )


def test_two_providers_of_one_interface_each_wired_to_its_own_middleware() -> None:
    report = server({"strings-tools": {"t:mcp/tools": "strings"}, "my-tools": {TOOLS: "mine"}})
    assert report.ok, [str(p) for p in report.problems]
    assert report.wiring.links[("strings-tools", TOOLS)] == ("strings", TOOLS)
    assert report.wiring.links[("my-tools", TOOLS)] == ("mine", TOOLS)
    assert report.wiring.unused_services == []


def test_without_wires_two_providers_are_ambiguous() -> None:
    report = server(None)
    assert not report.ok
    assert any("ambiguous" in str(p) and "mine, strings" in str(p) for p in report.problems)


def test_one_wire_leaves_the_other_importer_ambiguous() -> None:
    report = server({"strings-tools": {"t:mcp/tools": "strings"}})
    assert [p.component for p in report.problems] == ["my-tools"]


def test_a_wire_to_a_service_without_that_export_names_both() -> None:
    other = ComponentModel({}, {"t:mcp/prompts@0.1.1": LIST_TOOLS})
    report = server(
        {"strings-tools": {"t:mcp/tools": "strings"}, "my-tools": {"t:mcp/tools": "prompts"}},
        {"strings": CAPABILITY, "prompts": other},
    )
    (problem,) = report.problems
    assert problem.component == "my-tools <- prompts"
    assert "does not export this interface" in problem.message
    assert problem.found == "[t:mcp/prompts@0.1.1]"


def test_a_wire_to_an_export_of_other_types_names_both_and_the_types() -> None:
    wrong = ComponentModel({}, {TOOLS: instance(**{"list-tools": func(("cursor", "u32"), result="string")})})
    report = server(
        {"strings-tools": {"t:mcp/tools": "strings"}, "my-tools": {"t:mcp/tools": "wrong"}},
        {"strings": CAPABILITY, "wrong": wrong},
    )
    assert report.problems and all(p.component == "my-tools <- wrong" for p in report.problems)
    assert any(p.function == "list-tools" for p in report.problems)


def test_a_wire_for_an_interface_not_imported_and_one_for_the_chain_are_errors() -> None:
    report = server(
        {
            "strings-tools": {"t:mcp/tools": "strings", "t:mcp/prompts": "mine"},
            "my-tools": {TOOLS: "mine", "t:mcp/handler": "strings"},
        }
    )
    messages = sorted(str(p) for p in report.problems)
    assert len(messages) == 2, messages
    assert "cannot be wired" in messages[0] and "my-tools" in messages[0]
    assert "does not import" in messages[1] and "t:mcp/prompts" in messages[1]


@pytest.mark.parametrize(
    ("key", "name", "matches"),
    [
        ("t:mcp/tools", "t:mcp/tools@0.1.1", True),
        ("t:mcp/tools", "t:mcp/tools", True),
        ("t:mcp/tools@0.1.0", "t:mcp/tools@0.1.1", True),
        ("t:mcp/tools@0.1.0", "t:mcp/tools@0.2.0", False),
        ("t:mcp/tools@1.0.0", "t:mcp/tools@1.4.2", True),
        ("t:mcp/tool", "t:mcp/tools@0.1.1", False),
    ],
)
def test_wire_keys_match_by_semver_compatibility(key: str, name: str, matches: bool) -> None:
    assert wire_matches(key, name) is matches


MANIFEST = """\
[server]
name = "two-tools"
transport = "transport"
chain = ["strings-tools", "my-tools"]
terminal = "terminal"

[components.transport]
path = "t.wasm"
[components.terminal]
path = "x.wasm"
[components.strings-tools]
ref = "wasmcp:tools-middleware"
version = "^0.1"
[components.strings-tools.wire]
"wasmcp:mcp-v20251125/tools" = "strings"
[components.my-tools]
ref = "wasmcp:tools-middleware"
version = "^0.1"
wire = { "wasmcp:mcp-v20251125/tools@0.1.1" = "mine" }
[components.strings]
path = "strings.wasm"
[components.mine]
path = "mine.wasm"
"""


def test_manifest_wires_parse_and_one_ref_may_appear_twice() -> None:
    manifest = parse_server_manifest(MANIFEST, Path("mcpkg.toml"))
    assert manifest.wires == {
        "strings-tools": {"wasmcp:mcp-v20251125/tools": "strings"},
        "my-tools": {"wasmcp:mcp-v20251125/tools@0.1.1": "mine"},
    }
    assert manifest.components["strings-tools"].ref == manifest.components["my-tools"].ref
    assert manifest.services == ["mine", "strings"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('"strings"', '"nothing"'), "which is not a [components.nothing] table"),
        (('"strings"', '"strings-tools"'), "wires wasmcp:mcp-v20251125/tools to the component itself"),
        (('"strings"', '"my-tools"'), "which is in the chain"),
        (('"wasmcp:mcp-v20251125/tools" = "strings"', '"tools" = "strings"'), "is not an interface name"),
        (('"wasmcp:mcp-v20251125/tools" = "strings"', '"wasmcp:mcp-v20251125/tools" = 3'), "must name a component"),
        (
            ('"wasmcp:mcp-v20251125/tools" = "strings"', '"x:y/tools" = "strings"\n"x:y/tools@1.0.0" = "mine"'),
            "wire the same interface",
        ),
    ],
)
def test_bad_wires_name_the_table_and_say_what_is_wrong(edit: tuple[str, str], message: str) -> None:
    text = MANIFEST.replace(*edit, 1)
    with pytest.raises(ConfigError) as caught:
        parse_server_manifest(text, Path("mcpkg.toml"))
    assert message in caught.value.message
    assert "components.strings-tools.wire" in caught.value.message


def _entry(name: str, position: str, wires: tuple[tuple[str, str], ...] = ()) -> LockEntry:
    return LockEntry(name, position, "path", "sha256:" + "ab" * 32, 10, (), (), path=f"{name}.wasm", wires=wires)


def test_lock_records_wires_and_reads_them_back() -> None:
    lock = Lockfile(
        "sha256:" + "00" * 32,
        "demo",
        "transport",
        ("my-tools",),
        "terminal",
        (
            _entry("mine", "service"),
            _entry("my-tools", "chain", (("wasmcp:mcp-v20251125/tools", "mine"),)),
            _entry("terminal", "terminal"),
            _entry("transport", "transport"),
        ),
    )
    data = render(lock)
    assert f"version = {LOCK_VERSION}\n" in data.decode() and LOCK_VERSION == 3
    assert 'wire = { "wasmcp:mcp-v20251125/tools" = "mine" }\n' in data.decode()
    back = parse(data, Path("mcpkg.lock"))
    assert back == lock and render(back) == data
    assert back.wires == {"my-tools": {"wasmcp:mcp-v20251125/tools": "mine"}}


def test_a_format_1_lock_is_read_and_rendered_unchanged() -> None:
    old = (
        "# This file is generated by mcpkg. Do not edit it by hand.\n"
        "version = 1\n"
        f'manifest-hash = "sha256:{"00" * 32}"\n'
        "\n[server]\n"
        'name = "demo"\ntransport = "transport"\nchain = []\nterminal = "terminal"\n'
        '\n[[component]]\nname = "terminal"\nposition = "terminal"\nsource = "path"\npath = "x.wasm"\n'
        f'layer-digest = "sha256:{"ab" * 32}"\nsize = 10\nimports = []\nexports = []\n'
        '\n[[component]]\nname = "transport"\nposition = "transport"\nsource = "path"\npath = "t.wasm"\n'
        f'layer-digest = "sha256:{"ab" * 32}"\nsize = 10\nimports = []\nexports = []\n'
    ).encode()
    lock = parse(old, Path("mcpkg.lock"))
    assert lock.version == 1 and lock.wires == {}
    assert render(lock) == old  # an untouched old lock stays fresh
    with pytest.raises(ConfigError, match="not part of lock format 1"):
        parse(old.replace(b"exports = []\n", b'exports = []\nwire = { "a:b/c" = "d" }\n', 1), Path("mcpkg.lock"))
    with pytest.raises(ConfigError, match="upgrade mcpkg"):
        parse(old.replace(b"version = 1", b"version = 4"), Path("mcpkg.lock"))
