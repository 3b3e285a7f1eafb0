"""What `mcpkg run` can provide: WASI preview 2, and outgoing HTTP when granted; everything
else is named, with the wasmtime CLI options that provide it. The refusals of ungranted HTTP
and of `--allow-network` name what can grant them (host/grants.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.errors import McpkgError, UsageError
from mcpkg.host.grants import calls_out_over_http, grants_needed, http_imports
from mcpkg.host.runner import (
    cli_options,
    cli_run_command,
    refuse_network,
    refuse_ungranted,
    refuse_unprovided,
    serve_command,
    unprovided_imports,
)
from mcpkg.wasm.model import ComponentModel

FUNC = {
    "kind": "instance",
    "functions": {"f": {"params": [], "result": None}},
    "resources": [],
    "uses": [],
    "types": {},
}
TYPES_ONLY = {"kind": "instance", "functions": {}, "resources": [], "uses": [], "types": {"t": {"k": "string"}}}


def model(*names: str, types_only: tuple[str, ...] = ()) -> ComponentModel:
    imports = {name: FUNC for name in names} | {name: TYPES_ONLY for name in types_only}
    return ComponentModel(imports, {"wasi:cli/run@0.2.9": FUNC})


def test_wasi_p2_and_type_only_interfaces_are_provided() -> None:
    found = model(
        "wasi:io/streams@0.2.8", "wasi:cli/stdin@0.2.9", "wasi:sockets/tcp@0.2.3", types_only=("x:y/types@1.0.0",)
    )
    assert unprovided_imports(found) == []
    refuse_unprovided(found, Path("server.wasm"))  # nothing to refuse


def test_keyvalue_is_named_with_its_options_and_http_joins_the_command() -> None:
    """wasi:http is provided (granted: see below), so only wasi:keyvalue is missing; the
    wasmtime CLI command provides both."""
    found = model("wasi:keyvalue/store@0.2.0-draft", "wasi:http/outgoing-handler@0.2.8", "wasi:io/poll@0.2.8")
    missing = unprovided_imports(found)
    assert missing == ["wasi:keyvalue/store@0.2.0-draft"]
    both = ["wasi:http/outgoing-handler@0.2.8", *missing]
    assert cli_options(both) == ["http", "keyvalue"]
    assert cli_options(both, serve=True) == ["keyvalue"]
    assert (
        serve_command(Path("s.wasm"), ["keyvalue"])
        == "wasmtime serve -O pooling-allocator=n -Scommon -S keyvalue --addr 127.0.0.1:8080 s.wasm"
    )
    with pytest.raises(McpkgError) as refused:
        refuse_unprovided(found, Path("s.wasm"))
    assert "wasi:keyvalue/store@0.2.0-draft" in refused.value.message
    assert refused.value.hint == "run it with the wasmtime CLI instead: wasmtime run -S http -S keyvalue s.wasm"


def test_an_uncomposed_part_has_no_option() -> None:
    found = model("wasmcp:mcp-v20251125/server-io@0.1.1", "wasi:keyvalue/store@0.2.0-draft")
    with pytest.raises(McpkgError) as refused:
        refuse_unprovided(found, Path("s.wasm"))
    assert "wasmcp:mcp-v20251125/server-io@0.1.1" in refused.value.message
    assert refused.value.hint is not None and "must be composed in" in refused.value.hint


HTTP_CLIENT = ("wasi:http/outgoing-handler@0.2.9", "wasi:http/types@0.2.9", "wasi:io/poll@0.2.9")
SOCKETS = ("wasi:sockets/tcp@0.2.9", "wasi:sockets/instance-network@0.2.9")


def test_outgoing_http_needs_the_grant_and_types_alone_do_not() -> None:
    assert calls_out_over_http(HTTP_CLIENT) and grants_needed(HTTP_CLIENT) == ["--allow-http"]
    assert http_imports(HTTP_CLIENT) == ["wasi:http/outgoing-handler@0.2.9", "wasi:http/types@0.2.9"]
    assert grants_needed(HTTP_CLIENT, serves_http=True) == []  # wasmtime serve provides it
    types_alone = ("wasi:http/types@0.2.9",)
    assert not calls_out_over_http(types_alone) and grants_needed(types_alone) == []
    refuse_ungranted(model(*types_alone), Path("s.wasm"), allow_http=False)  # nothing to send with
    assert grants_needed(SOCKETS) == []  # sockets are never granted by mcpkg


def test_ungranted_http_is_refused_naming_the_flag_and_the_cli_command() -> None:
    found = model(*HTTP_CLIENT)
    assert unprovided_imports(found) == []
    refuse_ungranted(found, Path("s.wasm"), allow_http=True)
    with pytest.raises(McpkgError) as refused:
        refuse_ungranted(found, Path("s.wasm"), allow_http=False, cli_command=cli_run_command(found, Path("s.wasm")))
    assert "wasi:http/outgoing-handler@0.2.9, wasi:http/types@0.2.9" in refused.value.message
    assert "--allow-http" in refused.value.message
    assert refused.value.hint is not None
    assert refused.value.hint.startswith("grant it: mcpkg run --allow-http s.wasm")
    assert refused.value.hint.endswith("or with the wasmtime CLI: wasmtime run -S http s.wasm")
    assert refused.value.details == {"ungranted": http_imports(HTTP_CLIENT), "grant": "--allow-http"}


@pytest.mark.parametrize(
    ("imports", "hint"),
    [
        (SOCKETS, "for its sockets, run it with the wasmtime CLI instead: wasmtime run -S inherit-network s.wasm"),
        (
            (*SOCKETS, *HTTP_CLIENT),
            "it calls out over HTTP, which --allow-http grants: mcpkg run --allow-http s.wasm; for its sockets, "
            "run it with the wasmtime CLI instead: wasmtime run -S inherit-network -S http s.wasm",
        ),
        (
            (*SOCKETS, "wasi:keyvalue/store@0.2.0-draft"),
            "for its sockets, run it with the wasmtime CLI instead: wasmtime run -S inherit-network -S keyvalue s.wasm",
        ),
    ],
)
def test_allow_network_names_the_cli_command_for_sockets(imports: tuple[str, ...], hint: str) -> None:
    found = model(*imports)
    with pytest.raises(UsageError) as refused:
        refuse_network(found, Path("s.wasm"), cli_run_command(found, Path("s.wasm"), "inherit-network"))
    assert "cannot be granted by the wasmtime Python embedding" in refused.value.message
    assert refused.value.hint == hint


def test_allow_network_without_sockets_grants_nothing() -> None:
    with pytest.raises(UsageError) as http_only:
        refuse_network(model(*HTTP_CLIENT), Path("s.wasm"), "unused")
    assert http_only.value.message == "--allow-network: s.wasm imports no wasi:sockets interface, so it grants nothing"
    assert http_only.value.hint == "it calls out over HTTP, which --allow-http grants: mcpkg run --allow-http s.wasm"
    with pytest.raises(UsageError) as nothing:
        refuse_network(model("wasi:cli/stdin@0.2.9"), Path("s.wasm"), "unused")
    assert nothing.value.hint == "drop --allow-network"


def test_a_backend_is_not_sent_to_the_wasmtime_cli() -> None:
    """No CLI command for a wasi:mcp backend (the wasmtime CLI cannot host one)."""
    with pytest.raises(UsageError) as refused:
        refuse_network(model(*SOCKETS), Path("b.wasm"), None)
    assert refused.value.hint is not None and "wasmtime" not in refused.value.hint
    assert unprovided_imports(model("wasi:mcp/runtime@0.1.0-preview2"), hosted=frozenset({"wasi:mcp"})) == []


def test_only_wasi_http_0_2_is_provided() -> None:
    """wasmtime's wasi:http is 0.2.x; a component of another version (0.3's async
    interfaces) is refused as unprovided, with the CLI option, not sent to the grant."""
    newer = model("wasi:http/handler@0.3.0-rc-2025-09-16", "wasi:http/types@0.3.0-rc-2025-09-16")
    assert not calls_out_over_http(newer.imports) and http_imports(newer.imports) == []
    assert unprovided_imports(newer) == ["wasi:http/handler@0.3.0-rc-2025-09-16", "wasi:http/types@0.3.0-rc-2025-09-16"]
    assert grants_needed(["wasi:http/outgoing-handler@0.2.0", "wasi:http/types@0.2.0"]) == ["--allow-http"]
