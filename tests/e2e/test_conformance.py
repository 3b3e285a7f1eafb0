"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, pinned in
scripts/setup) against mcpkg's backend host: `mcpkg run --http` serving the everything-backend
fixture, every server scenario of the suite (`--suite all`), with the expected failures of
tests/data/conformance/expected-failures.yml (each with its reason); then the same calls and
checks as a few key scenarios over stdio with the official MCP Python SDK (progress with the
request's token, logging, a template read with its MIME type, prompts with arguments,
completion). docs/wasi-mcp.md has the result.

The suite's `dist/index.js` imports `globSync` from `fs`, which Node has from 22 on; on an
older Node the test runs a copy of it beside the package's `node_modules` with that one
import served by the npm `glob` package (installed with the suite by scripts/setup)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import Mcpkg
from tests.e2e.servers import free_port, stop
from tests.e2e.test_fixture_proof import run

ROOT = Path(__file__).parents[2]
NODE_PREFIX = Path(os.environ.get("MCPKG_NODE_PREFIX", ROOT / ".venv" / "node"))
SUITE = NODE_PREFIX / "node_modules" / "@modelcontextprotocol" / "conformance"
EXPECTED = ROOT / "tests" / "data" / "conformance" / "expected-failures.yml"
COMPILER = os.environ.get("MCPKG_E2E_WASMTIME_COMPILER", "winch")
START_TIMEOUT = 300  # the first run compiles the backend
SUITE_TIMEOUT = 300  # the whole suite takes a few seconds
SCENARIOS = 32  # the server scenarios of version 0.1.16
FS_IMPORT = 'import{existsSync as a,globSync as o,mkdtempSync as s,promises as c,readFileSync as l}from"fs";'
GLOB_IMPORT = (
    'import{existsSync as a,mkdtempSync as s,promises as c,readFileSync as l}from"fs";import{globSync as o}from"glob";'
)

MISSING = (
    f"node, or @modelcontextprotocol/conformance under {NODE_PREFIX}, is missing: ./scripts/setup installs it"
    if shutil.which("node") is None or not (SUITE / "dist" / "index.js").is_file()
    else None
)


def expected_failures() -> dict[str, str]:
    """The scenarios of the expected-failures file -> their reasons."""
    found = re.findall(r"^\s+-\s+([\w/-]+)\s+#\s*(.+)$", EXPECTED.read_text(), re.MULTILINE)
    return dict(found)


def suite_entry() -> Path:
    """The suite's CLI: dist/index.js, or on Node < 22 a copy importing `globSync` from the
    `glob` package, written beside `node_modules` so that its bare imports resolve."""
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    if int(version.strip().lstrip("v").split(".")[0]) >= 22:
        return SUITE / "dist" / "index.js"
    source = (SUITE / "dist" / "index.js").read_text()
    assert source.count(FS_IMPORT) == 1, "the suite's fs import changed: update the Node 20 workaround"
    patched = source.replace(FS_IMPORT, GLOB_IMPORT)
    entry = NODE_PREFIX / "conformance-node20.mjs"
    if not entry.is_file() or entry.read_text() != patched:
        entry.write_text(patched)
    return entry


def _env(home: Path) -> dict[str, str]:
    runner = Mcpkg(home)
    env = {**os.environ, **{k: v for k, v in runner.env.items() if v is not None}}
    for name, value in runner.env.items():
        if value is None:
            env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mcpkg home (cache) for the module: the backend is compiled once."""
    return tmp_path_factory.mktemp("conformance") / "home"


@contextmanager
def http_backend(backend: Path, home: Path) -> Iterator[str]:
    """`mcpkg run --http 127.0.0.1:PORT everything-backend.wasm`; its URL."""
    port = free_port()
    log = home.parent / f"stderr-{port}.log"
    args = ["-m", "mcpkg", "run", "--compiler", COMPILER, "--http", f"127.0.0.1:{port}", str(backend)]
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, *args], env=_env(home), stdin=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "serving MCP" not in log.read_text():
            if process.poll() is not None:
                raise RuntimeError(f"mcpkg run --http exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"mcpkg run --http did not serve within {START_TIMEOUT} s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


def scenario_results(output: Path) -> dict[str, list[dict[str, Any]]]:
    """The suite's `-o` directory (`server-<scenario>-<time>/checks.json`) -> scenario -> checks."""
    results = {}
    for checks in output.glob("*/checks.json"):
        found = re.fullmatch(r"server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z", checks.parent.name)
        assert found is not None, checks.parent.name
        results[found.group(1)] = json.loads(checks.read_text())
    return results


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_the_conformance_suite(fixtures: Path, home: Path, tmp_path: Path) -> None:
    expected = expected_failures()
    assert expected, "no expected failures read"
    with http_backend(fixtures / "wasi-mcp" / "everything-backend.wasm", home) as url:
        args = ["server", "--url", url, "--suite", "all", "-o", str(tmp_path / "out"), "--expected-failures"]
        done = subprocess.run(
            ["node", str(suite_entry()), *args, str(EXPECTED)],
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT,
            cwd=tmp_path,
            check=False,
        )
    report = done.stdout + done.stderr
    results = scenario_results(tmp_path / "out")
    assert len(results) == SCENARIOS, report
    failed = {
        name: [f"{c['status']}: {c.get('errorMessage') or c['description']}" for c in checks]
        for name, checks in results.items()
        if any(c["status"] in ("FAILURE", "WARNING") for c in checks)
    }
    unexpected = {name: problems for name, problems in failed.items() if name not in expected}
    assert not unexpected, f"unexpected failures: {json.dumps(unexpected, indent=1)}\n{report}"
    stale = sorted(set(expected) - set(failed))
    assert not stale, f"expected to fail but passed (update {EXPECTED.name}): {stale}"
    # the suite's own verdict, from the same file
    assert done.returncode == 0 and "Baseline check passed" in done.stdout, report
    passed = [name for name, checks in results.items() if all(c["status"] in ("SUCCESS", "INFO") for c in checks)]
    assert len(passed) == SCENARIOS - len(expected) == 26


# --- the key scenarios' calls and checks over stdio, with the official Python SDK -------------


def _text(content: Any) -> str:
    assert isinstance(content, mcp_types.TextContent), content
    return content.text


def test_key_scenarios_over_stdio(fixtures: Path, home: Path, tmp_path: Path) -> None:
    backend = fixtures / "wasi-mcp" / "everything-backend.wasm"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpkg", "run", "--compiler", COMPILER, str(backend)], env=_env(home)
    )
    logs: list[mcp_types.LoggingMessageNotificationParams] = []
    reported: list[tuple[float, float | None]] = []

    async def logged(params: mcp_types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total))

    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, logging_callback=logged) as session,
            ):
                result = await session.initialize()
                caps = result.capabilities
                assert result.server_info.name == "everything-backend"
                assert caps.logging is not None and caps.completions is not None
                assert caps.resources is not None and caps.resources.subscribe is True

                # tools-call-with-progress: 0, 50, 100 of 100, reaching the SDK's callback,
                # which it calls only for its own request's token
                called = await session.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
                assert _text(called.content[0]) == "Tool with progress executed successfully"
                assert reported == [(0, 100), (50, 100), (100, 100)]

                # tools-call-with-logging: three info messages while the tool runs
                await session.set_logging_level("debug")
                await session.call_tool("test_tool_with_logging", {})
                assert [(entry.level, entry.data) for entry in logs] == [
                    ("info", "Tool execution started"),
                    ("info", "Tool processing data"),
                    ("info", "Tool execution completed"),
                ]
                await session.set_logging_level("error")  # filtered by the host from now on
                await session.call_tool("test_tool_with_logging", {})
                assert len(logs) == 3

                # tools-call-error, tools-call-mixed-content
                failed = await session.call_tool("test_error_handling", {})
                assert failed.is_error is True
                assert _text(failed.content[0]) == "This tool intentionally returns an error for testing"
                mixed = await session.call_tool("test_multiple_content_types", {})
                assert [c.type for c in mixed.content] == ["text", "image", "resource"]

                # resources-templates-read: the template's MIME type on a read of one of its URIs
                templates = await session.list_resource_templates()
                assert [(t.uri_template, t.mime_type) for t in templates.resource_templates] == [
                    ("test://template/{id}/data", "application/json")
                ]
                data = (await session.read_resource("test://template/123/data")).contents[0]
                assert isinstance(data, mcp_types.TextResourceContents)
                assert (str(data.uri), data.mime_type) == ("test://template/123/data", "application/json")
                assert json.loads(data.text) == {"id": "123", "templateTest": True, "data": "Data for ID: 123"}
                binary = (await session.read_resource("test://static-binary")).contents[0]
                assert isinstance(binary, mcp_types.BlobResourceContents) and binary.mime_type == "image/png"

                # prompts-get-with-args, prompts-get-embedded-resource
                prompt = await session.get_prompt("test_prompt_with_arguments", {"arg1": "hello", "arg2": "world"})
                assert _text(prompt.messages[0].content) == "Prompt with arguments: arg1='hello', arg2='world'"
                embedded = await session.get_prompt("test_prompt_with_embedded_resource", {"resourceUri": "test://x"})
                resource = embedded.messages[0].content
                assert isinstance(resource, mcp_types.EmbeddedResource) and str(resource.resource.uri) == "test://x"

                # completion-complete
                ref = mcp_types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
                completed = await session.complete(ref, {"name": "arg1", "value": "par"})
                assert completed.completion.values == ["paris", "park", "party"]
                none = await session.complete(ref, {"name": "arg1", "value": "test"})
                assert none.completion.values == []

                # resources-subscribe, resources-unsubscribe
                await session.subscribe_resource("test://watched-resource")
                await session.unsubscribe_resource("test://watched-resource")

    run(main)
