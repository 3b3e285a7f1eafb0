"""Role classification of every fixture component and the compatibility matrix of the
runnable MCP fixtures with each broken variant (real componentize-py builds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.cache import Cache, hash_file
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.contracts import classify
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel
from testing.fixtures import MCP_FIXTURE_ROLES


@pytest.fixture(scope="session")
def fixture_models(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ComponentModel]:
    cache = Cache(tmp_path_factory.mktemp("fixture-types"))
    models = {}
    for path in [*sorted((fixtures / "mcp").glob("*.wasm")), *sorted((fixtures / "broken").glob("*.wasm"))]:
        digest, _ = hash_file(path)
        models[path.stem] = component_model(path, digest, cache, path.name)
    for name in ("greeter", "logger", "answer"):
        path = fixtures / f"{name}.wasm"
        digest, _ = hash_file(path)
        models[name] = component_model(path, digest, cache, path.name)
    return models


EXPECTED_FIRST_ROLE = MCP_FIXTURE_ROLES


def test_every_fixture_is_classified(fixture_models: dict[str, ComponentModel]) -> None:
    for name, role in EXPECTED_FIRST_ROLE.items():
        roles = classify(fixture_models[name])
        assert roles and roles[0].world == role, (name, roles)
    for name in ("broken-signature", "broken-missing-export", "broken-version", "greeter", "logger", "answer"):
        assert classify(fixture_models[name]) == [], name
    assert {r.world for r in classify(fixture_models["writers"])} == {
        "writers", "tools-writer-service", "resources-writer-service", "initialize-writer-service",
        "error-writer-service", "result-writer-service",
    }  # fmt: skip


def _chain(models: dict[str, ComponentModel], middle: str) -> list[str]:
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("logger", models["logging-middleware"]), (middle, models[middle])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"])],
    )
    return [str(p) for p in report.problems]


def test_runnable_fixtures_compose(fixture_models: dict[str, ComponentModel]) -> None:
    report = check_chain(
        ("http", fixture_models["http-transport"]),
        [(n, fixture_models[n]) for n in ("logging-middleware", "tools-handler", "resources-handler")],
        ("init", fixture_models["initialize-handler"]),
        [("writers", fixture_models["writers"])],
    )
    assert report.ok, [str(p) for p in report.problems]
    assert "wasi:http/incoming-handler@0.2.9" not in report.wiring.host_imports  # exported, not imported


ANY_REQUEST = (
    "record { id: option<string>, method: string, params: option<string>, "
    "capabilities: flags { tools, resources, prompts, completions, logging } }"
)


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            "broken-signature",
            [
                "broken-signature, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must import the chain "
                "interface",
                "logger <- broken-signature, interface mcpkg:mcp/incoming-handler@0.1.0, function handle, parameters: "
                f"parameter lists differ (expected func(request: {ANY_REQUEST}, output: borrow<output-stream>), "
                f"found func(request: {ANY_REQUEST}))",
            ],
        ),
        (
            "broken-missing-export",
            [
                "broken-missing-export, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must export the "
                "chain interface"
            ],
        ),
        (
            "broken-version",
            [
                "broken-version, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must import the chain "
                "interface",
                "broken-version, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must export the chain "
                "interface",
                "broken-version, interface mcpkg:mcp/result-writer@0.2.0: import is not satisfied by any service and "
                "is not a host interface",
            ],
        ),
        ("tools-handler", []),
    ],
)
def test_compatibility_matrix(fixture_models: dict[str, ComponentModel], broken: str, expected: list[str]) -> None:
    assert _chain(fixture_models, broken) == expected
