"""Malformed, wrongly typed, huge and hostile `mcpkg.toml`, `mcpkg.lock` and config files
(issue #10): each gives a clear error (exit 1, the file and the key named, no traceback)
and leaves the project as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Mcpkg
from tests.integration.test_project import published, write_project

__all__ = ["published"]  # the session fixture of published role components, shared

DEEP_ARRAY = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"
DEEP_TABLE = "x = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n"
HUGE = "# padding\n" * 500_000  # 5 MB of comments: valid TOML, over the 4 MiB limit


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# -- mcpkg.toml ------------------------------------------------------------------------

MANIFEST_CASES: list[tuple[str, Callable[[str], str], str]] = [
    ("chain a string", lambda t: t.replace('chain = ["logger", "tools"]', 'chain = "logger"'), "`server.chain`"),
    ("name a number", lambda t: t.replace('name = "demo"', "name = 7"), "`server.name`: must be a string"),
    ("ref a table", lambda t: t.replace('ref = "127.0.0.1:9/none/writers"', "ref = {a = 1}"), "components.writers.ref"),
    ("components an array", lambda t: "components = 3\n" + t, "not valid TOML"),
    ("unknown top-level table", lambda t: t + "\n[servers]\nx = 1\n", "unknown key"),
    ("deeply nested array", lambda t: t + DEEP_ARRAY, "nests arrays or tables too deeply"),
    ("deeply nested inline table", lambda t: t + DEEP_TABLE, "nests arrays or tables too deeply"),
    ("huge", lambda t: t + HUGE, "larger than 4 MiB"),
    ("NUL byte", lambda t: t.replace("# my server", "# my\0server"), "not valid TOML"),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in MANIFEST_CASES], ids=[c[0] for c in MANIFEST_CASES])
def test_malformed_manifest(mcpkg: Mcpkg, tmp_path: Path, edit: Callable[[str], str], message: str) -> None:
    root = write_project(tmp_path / "p", "127.0.0.1:9/none")
    path = root / "mcpkg.toml"
    path.write_text(edit(path.read_text()))
    before = path.read_bytes()
    for command in (["lock", "-C", str(root)], ["tree", "-C", str(root)], ["remove", "tools", "-C", str(root)]):
        result = mcpkg(*command)
        assert result.exit_code == 1 and message in result.stderr, (command, result.stderr)
        _no_traceback(result.stderr)
    assert path.read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["mcpkg.toml"]


def test_manifest_not_utf8_and_endless(mcpkg: Mcpkg, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "127.0.0.1:9/none")
    (root / "mcpkg.toml").write_bytes(b'[server]\nname = "\xff\xfe"\n')
    result = mcpkg("lock", "-C", str(root))
    assert result.exit_code == 1 and "is not UTF-8 text" in result.stderr
    (root / "mcpkg.toml").unlink()
    os.symlink("/dev/zero", root / "mcpkg.toml")  # endless: read up to the limit, no further
    result = mcpkg("lock", "-C", str(root))
    assert result.exit_code == 1 and "larger than 4 MiB" in result.stderr
    _no_traceback(result.stderr)


# -- mcpkg.lock ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locked_project(published: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    root = write_project(tmp_path_factory.mktemp("locked") / "p", published)
    Mcpkg(root.parent / "home").ok("lock", "-C", str(root))
    return root, (root / "mcpkg.lock").read_bytes()


LOCK_CASES: list[tuple[str, Callable[[str], str], str]] = [
    ("not TOML", lambda t: t.replace("[server]", "[server"), "mcpkg.lock is not valid TOML"),
    ("version a string", lambda t: t.replace("version = 3\n", 'version = "1"\n', 1), "`version` is missing"),
    ("future version", lambda t: t.replace("version = 3\n", "version = 99\n", 1), "lock format version 99"),
    ("size negative", lambda t: t.replace("size = ", "size = -", 1), "`component[0].size`"),
    ("size a string", lambda t: _first_size_as_string(t), "`component[0].size`"),
    ("digest malformed", lambda t: t.replace('layer-digest = "sha256:', 'layer-digest = "sha256:z', 1), "layer-digest"),
    ("position unknown", lambda t: t.replace('position = "chain"', 'position = "middle"', 1), ".position`"),
    ("source unknown", lambda t: t.replace('source = "registry"', 'source = "ftp"', 1), ".source`"),
    ("imports a string", lambda t: _first_list_as_string(t, "imports"), ".imports` must be a list of strings"),
    ("chain missing", lambda t: _drop_line(t, "chain = "), "server.chain"),
    ("component twice", lambda t: t + t[t.index("[[component]]") :].split("\n\n")[0] + "\n", "appears twice"),
    ("deeply nested", lambda t: t + DEEP_ARRAY, "too deeply"),
    ("huge", lambda t: t + HUGE, "larger than 4 MiB"),
]


def _first_size_as_string(text: str) -> str:
    start = text.index("size = ")
    end = text.index("\n", start)
    return text[:start] + f'size = "{text[start + 7 : end]}"' + text[end:]


def _first_list_as_string(text: str, key: str) -> str:
    start = text.index(f"{key} = [")
    end = text.index("\n", start)
    return text[:start] + f'{key} = "x"' + text[end:]


def _drop_line(text: str, prefix: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(prefix))


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in LOCK_CASES], ids=[c[0] for c in LOCK_CASES])
def test_malformed_lockfile(
    mcpkg: Mcpkg, locked_project: tuple[Path, bytes], tmp_path: Path, edit: Callable[[str], str], message: str
) -> None:
    source, good = locked_project
    root = tmp_path / "p"
    root.mkdir()
    (root / "mcpkg.toml").write_bytes((source / "mcpkg.toml").read_bytes())
    bad = edit(good.decode()).encode()
    assert bad != good
    (root / "mcpkg.lock").write_bytes(bad)
    for command in (["lock", "--check", "-C", str(root)], ["tree", "-C", str(root)]):
        result = mcpkg(*command)
        assert result.exit_code == 1 and message in result.stderr, (command, result.stderr)
        assert "mcpkg.lock" in result.stderr
        _no_traceback(result.stderr)
    assert (root / "mcpkg.lock").read_bytes() == bad  # never rewritten behind the user's back


# -- the user config -----------------------------------------------------------------

CONFIG_CASES = [
    ('[registries."x.io"]\nca-file = 5\n', "ca-file"),
    ("[registries]\nx = 1\n", "registries"),
    ('[trust."x.io/*"]\nkeys = "k.pub"\n', "keys"),
    ("default-registry = [1, 2]\n", "default-registry"),
    (DEEP_ARRAY, "too deeply"),
    (HUGE, "larger than 4 MiB"),
]


@pytest.mark.parametrize(("text", "message"), CONFIG_CASES, ids=[m for _, m in CONFIG_CASES])
def test_malformed_config(mcpkg: Mcpkg, text: str, message: str) -> None:
    mcpkg.write_config(text)
    result = mcpkg("tags", "127.0.0.1:9/none")
    assert result.exit_code == 1 and message in result.stderr and str(mcpkg.config) in result.stderr, result.stderr
    _no_traceback(result.stderr)
